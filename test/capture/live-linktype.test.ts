import { describe, expect, it } from 'vitest';
import { linkTypeFromCapName, listInterfaces, openLive } from '../../src/capture/live';
import { LinkType } from '../../src/decode/linktype';
import { needs, root, supported } from '../support/skip';

describe("cap's link type names", () => {
  it.each([
    ['NULL', LinkType.NULL],
    ['ETHERNET', LinkType.ETHERNET],
    ['IEEE802_11_RADIO', LinkType.IEEE802_11_RADIOTAP],
    ['LINKTYPE_LINUX_SLL', LinkType.LINUX_SLL],
    ['RAW', LinkType.RAW],
    ['Unknown linktype 276', LinkType.LINUX_SLL2],
    ['Unknown linktype 239', 239], // NFLOG
    ['Unknown linktype 11', 100], // DLT_ATM_RFC1483 is LINKTYPE_ATM_RFC1483
  ])('%s is LINKTYPE %i', (name, expected) => {
    expect(linkTypeFromCapName(name)).toBe(expected);
  });

  it('anything else is not a link type', () => {
    expect(linkTypeFromCapName('Unknown linktype')).toBeNull();
    expect(linkTypeFromCapName('ethernet')).toBeNull();
  });

  // libpcap's netfilter queue device delivers raw IPv4, a type cap has no name for.
  it('a device cap has no name for gets its number (nfqueue)', needs(root(), supported(listInterfaces().includes('nfqueue'), 'no nfqueue capture device')), () => {
    const r = openLive({ iface: 'nfqueue', bufferSize: 1 << 20 }, () => {});
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    r.capture.stop();
    expect(r.capture.linkType).toBe(LinkType.IPV4);
  });
});
