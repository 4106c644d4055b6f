import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import {
  formatLabelSelector,
  formatLabels,
  labelSelectorFromObject,
  parseFieldSelector,
  parseLabelSelector,
} from '../../../src/api/selectors.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'fe', env: 'a', version: '3' };

  it('matches =, ==, !=, in, notin, exists and !', () => {
    expect(parseLabelSelector('app=web').matches(labels)).toBe(true);
    expect(parseLabelSelector('app==web').matches(labels)).toBe(true);
    expect(parseLabelSelector('app!=web').matches(labels)).toBe(false);
    expect(parseLabelSelector('tier!=db').matches(labels)).toBe(true);
    expect(parseLabelSelector('missing!=x').matches(labels)).toBe(true);
    expect(parseLabelSelector('env in (a,b)').matches(labels)).toBe(true);
    expect(parseLabelSelector('env notin (a,b)').matches(labels)).toBe(false);
    expect(parseLabelSelector('missing notin (a)').matches(labels)).toBe(true);
    expect(parseLabelSelector('tier').matches(labels)).toBe(true);
    expect(parseLabelSelector('!legacy').matches(labels)).toBe(true);
    expect(parseLabelSelector('!app').matches(labels)).toBe(false);
    expect(parseLabelSelector('version>2,version<4').matches(labels)).toBe(true);
  });

  it('parses the brief example and prints requirements sorted by key', () => {
    const s = parseLabelSelector('a=b,c!=d,e,!f,g in (y,x)');
    expect(s.toString()).toBe('a=b,c!=d,e,!f,g in (x,y)');
    expect(s.matches({ a: 'b', e: '1', g: 'x' })).toBe(true);
    expect(s.matches({ a: 'b', e: '1', g: 'x', f: '' })).toBe(false);
    expect(parseLabelSelector(' z = 1 , a = 2 ').toString()).toBe('a=2,z=1');
  });

  it('treats the empty selector as everything', () => {
    expect(parseLabelSelector('').matches({})).toBe(true);
    expect(parseLabelSelector('').empty).toBe(true);
  });

  it('rejects bad syntax with a 400 BadRequest', () => {
    for (const bad of ['app=', 'app in a', 'a=b,', '=x', 'a b', 'x in (a', 'k=v!']) {
      let err: unknown;
      try {
        const s = parseLabelSelector(bad);
        // "app=" is valid upstream: an empty value.
        if (bad === 'app=') expect(s.matches({ app: '' })).toBe(true);
        else err = new Error(`parsed ${bad}`);
      } catch (e) {
        err = e;
      }
      if (bad === 'app=') continue;
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(400);
      expect((err as ApiError).message).toMatch(/^unable to parse requirement: /);
    }
  });

  it('converts metav1.LabelSelector and formats like FormatLabelSelector', () => {
    const sel = {
      matchLabels: { app: 'ngx-dep' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['fe', 'be'] },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    };
    expect(formatLabelSelector(sel)).toBe('app=ngx-dep,!legacy,tier in (be,fe)');
    expect(formatLabelSelector({})).toBe('<none>');
    expect(labelSelectorFromObject(undefined).matches({})).toBe(false);
    expect(labelSelectorFromObject({}).matches({ any: 'thing' })).toBe(true);
  });

  it('formats label maps sorted, <none> when empty', () => {
    expect(formatLabels({ run: 'x', app: 'y' })).toBe('app=y,run=x');
    expect(formatLabels(undefined)).toBe('<none>');
  });
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'worker', hostNetwork: false }, status: { phase: 'Running' } };

  it('matches dotted paths with = and !=', () => {
    expect(parseFieldSelector('spec.nodeName=worker,status.phase!=Failed,status.phase!=Succeeded').matches(pod)).toBe(true);
    expect(parseFieldSelector('metadata.name=p').matches(pod)).toBe(true);
    expect(parseFieldSelector('metadata.namespace==kube-system').matches(pod)).toBe(false);
    expect(parseFieldSelector('spec.hostNetwork=false').matches(pod)).toBe(true);
  });

  it('treats absent fields as the empty string', () => {
    expect(parseFieldSelector('involvedObject.namespace=').matches({ involvedObject: { kind: 'Node' } })).toBe(true);
  });

  it('applies resource aliases (events: source -> source.component)', () => {
    const ev = { source: { component: 'kubelet' } };
    expect(parseFieldSelector('source=kubelet').matches(ev, { source: 'source.component' })).toBe(true);
  });

  it('honours backslash escapes and rejects terms without an operator', () => {
    expect(parseFieldSelector('metadata.name=a\\,b').matches({ metadata: { name: 'a,b' } })).toBe(true);
    expect(() => parseFieldSelector('metadata.name')).toThrow(ApiError);
  });
});
