// Files the kubelet writes for a pod, rendered as the kubelet and the
// official nginx image write them. Pure.

export interface DnsConfig {
  nameservers?: string[];
  searches?: string[];
  options?: Array<{ name: string; value?: string }>;
}

export interface ResolvInputs {
  dnsPolicy: string;
  namespace: string;
  clusterDomain: string;
  clusterDNS: string;
  /** The node's own resolv.conf, for dnsPolicy Default. */
  nodeResolvConf: string;
  dnsConfig?: DnsConfig;
}

function parseResolv(text: string): Required<Pick<DnsConfig, 'nameservers' | 'searches'>> & { options: string[] } {
  const out = { nameservers: [] as string[], searches: [] as string[], options: [] as string[] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search') out.searches = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

/** /etc/resolv.conf for a pod, per dnsPolicy (ClusterFirst, Default, None) and dnsConfig. */
export function renderResolvConf(i: ResolvInputs): string {
  const node = parseResolv(i.nodeResolvConf);
  let nameservers: string[];
  let searches: string[];
  let options: string[];
  if (i.dnsPolicy === 'Default') {
    ({ nameservers, searches, options } = node);
  } else if (i.dnsPolicy === 'None') {
    nameservers = [];
    searches = [];
    options = [];
  } else {
    nameservers = [i.clusterDNS];
    searches = [`${i.namespace}.svc.${i.clusterDomain}`, `svc.${i.clusterDomain}`, i.clusterDomain, ...node.searches];
    options = ['ndots:5'];
  }
  if (i.dnsConfig) {
    nameservers = [...nameservers, ...(i.dnsConfig.nameservers ?? [])];
    searches = [...searches, ...(i.dnsConfig.searches ?? [])];
    for (const o of i.dnsConfig.options ?? []) {
      options = options.filter((x) => x.split(':')[0] !== o.name);
      options.push(o.value !== undefined ? `${o.name}:${o.value}` : o.name);
    }
  }
  const lines: string[] = [];
  if (searches.length) lines.push(`search ${[...new Set(searches)].join(' ')}`);
  for (const ns of nameservers.slice(0, 3)) lines.push(`nameserver ${ns}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export function renderHosts(podIP: string, hostname: string, aliases: Array<{ ip: string; hostnames: string[] }> = []): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${podIP}\t${hostname}`,
  ];
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The official nginx image's /etc/nginx/nginx.conf. The image links its log
 * files to /dev/stdout and /dev/stderr; here the paths say so directly.
 * `user` is the machine's unprivileged web user, since there is no "nginx" user.
 */
export function nginxConf(user: string): string {
  return `user  ${user};
worker_processes  auto;

error_log  /dev/stderr notice;
pid        /var/run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /dev/stdout  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
`;
}

/** The image's /etc/nginx/conf.d/default.conf, the "Welcome to nginx!" site. */
export const NGINX_DEFAULT_SITE = `server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
`;
