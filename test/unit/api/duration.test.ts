import { describe, expect, it } from 'vitest';
import { ageSince, humanDuration, shortHumanDuration } from '../../../src/api/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const MS = 1;
// Go's time.Duration unit is the nanosecond; "+1" there is below our resolution.
const NS = 1e-6;

// Cases from k8s.io/apimachinery/pkg/util/duration/duration_test.go.
describe('humanDuration', () => {
  it.each([
    [S, '1s'],
    [70 * S, '70s'],
    [190 * S, '3m10s'],
    [70 * M, '70m'],
    [47 * H, '47h'],
    [49 * H, '2d1h'],
    [(8 * 24 + 2) * H, '8d'],
    [367 * 24 * H, '367d'],
    [(365 * 2 * 24 + 25) * H, '2y1d'],
    [(365 * 8 * 24 + 2) * H, '8y'],
  ])('%d ms -> %s', (d, want) => {
    expect(humanDuration(d)).toBe(want);
  });

  it.each([
    [-2 * S, '<invalid>'],
    [-2 * S + NS, '0s'],
    [0, '0s'],
    [S - MS, '0s'],
    [2 * M - MS, '119s'],
    [2 * M, '2m'],
    [2 * M + S, '2m1s'],
    [10 * M - MS, '9m59s'],
    [10 * M, '10m'],
    [10 * M + S, '10m'],
    [3 * H - MS, '179m'],
    [3 * H, '3h'],
    [3 * H + M, '3h1m'],
    [8 * H - MS, '7h59m'],
    [8 * H, '8h'],
    [8 * H + 59 * M, '8h'],
    [2 * D - MS, '47h'],
    [2 * D, '2d'],
    [2 * D + H, '2d1h'],
    [8 * D - MS, '7d23h'],
    [8 * D, '8d'],
    [8 * D + 23 * H, '8d'],
    [2 * 365 * D - MS, '729d'],
    [2 * 365 * D, '2y'],
    [2 * 365 * D + 23 * H, '2y'],
    [2 * 365 * D + 23 * H + 59 * M, '2y'],
    [2 * 365 * D + 24 * H - MS, '2y'],
    [2 * 365 * D + 24 * H, '2y1d'],
    [3 * 365 * D, '3y'],
    [4 * 365 * D, '4y'],
    [5 * 365 * D, '5y'],
    [6 * 365 * D, '6y'],
    [7 * 365 * D, '7y'],
    [8 * 365 * D - MS, '7y364d'],
    [8 * 365 * D, '8y'],
    [8 * 365 * D + 364 * D, '8y'],
    [9 * 365 * D, '9y'],
  ])('boundary %d ms -> %s', (d, want) => {
    expect(humanDuration(d)).toBe(want);
  });
});

describe('shortHumanDuration', () => {
  it.each([
    [-2 * S, '<invalid>'],
    [-2 * S + NS, '0s'],
    [0, '0s'],
    [S - MS, '0s'],
    [S, '1s'],
    [2 * S - MS, '1s'],
    [M - MS, '59s'],
    [M, '1m'],
    [2 * M - MS, '1m'],
    [H - MS, '59m'],
    [H, '1h'],
    [2 * H - MS, '1h'],
    [D - MS, '23h'],
    [D, '1d'],
    [2 * D - MS, '1d'],
    [365 * D - MS, '364d'],
    [365 * D, '1y'],
    [2 * 365 * D - MS, '1y'],
    [2 * 365 * D, '2y'],
  ])('%d ms -> %s', (d, want) => {
    expect(shortHumanDuration(d)).toBe(want);
  });
});

describe('ageSince', () => {
  const now = new Date('2025-01-02T03:04:05Z');
  it('formats the age of a timestamp at a given instant', () => {
    expect(ageSince('2025-01-02T03:04:00Z', now)).toBe('5s');
    expect(ageSince('2025-01-02T03:01:03Z', now)).toBe('3m2s');
    expect(ageSince('2024-12-31T03:04:05Z', now)).toBe('2d');
  });
  it('prints <unknown> for an unset timestamp, as translateTimestampSince', () => {
    expect(ageSince(undefined, now)).toBe('<unknown>');
    expect(ageSince('', now)).toBe('<unknown>');
  });
});
