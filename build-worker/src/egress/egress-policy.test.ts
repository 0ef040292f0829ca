import { describe, expect, it } from 'vitest';
import { createEgressPolicy, hostInterfaceAddresses } from './egress-policy.js';

const policy = createEgressPolicy({ hostAddresses: ['192.0.2.10', '2001:db8::10'] });

describe('the egress policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.200.0.9', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['169.254.169.254', 'link-local'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['[fe80::1%eth0]', 'link-local'],
    ['fd00:ec2::254', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::1', 'loopback'],
    ['192.0.2.10', "host's own"],
    ['2001:db8::10', "host's own"],
    ['not-an-ip', 'not an IP'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(policy.refusal(address)).toContain(reason);
  });

  it.each(['8.8.8.8', '172.32.0.1', '203.0.113.80', '192.0.2.11', '2606:4700::1111', '64:ff9b::808:808'])(
    'allows the public address %s',
    (address) => {
      expect(policy.refusal(address)).toBeUndefined();
    },
  );

  it('opens only the web ports by default', () => {
    expect([...policy.ports]).toEqual([80, 443]);
  });

  it("denies this machine's own interface addresses when none are given", () => {
    const own = hostInterfaceAddresses();
    expect(own).toContain('127.0.0.1');
    const live = createEgressPolicy();
    for (const address of own) expect(live.refusal(address), address).toBeDefined();
  });
});
