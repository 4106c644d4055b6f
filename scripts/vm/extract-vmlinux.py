# The ELF kernel inside a bzImage (xz payload): qemu boots it via its PVH note.
import lzma
import sys

data = open(sys.argv[1], 'rb').read()
start = data.find(b'\xfd7zXZ\x00')
if start < 0:
    sys.exit('no xz payload in ' + sys.argv[1])
with open(sys.argv[2], 'wb') as out:
    out.write(lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:]))
