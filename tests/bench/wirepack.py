# SPDX-License-Identifier: BSD-3-Clause
"""The helper's wire protocol as the benchmarks speak it to the socket (protocol.h): a packet
is u16 version, u16 op, u32 length, then the fields; a string is u16 length and its bytes."""

import struct


def pack_str(s):
    b = s.encode()
    return struct.pack("=H", len(b)) + b


def packet(op, payload):
    return struct.pack("=HHI", 1, op, len(payload)) + payload


def who(user):
    """A pwr_who: the user, no remote host or terminal, the service "bench"."""
    return pack_str(user) + pack_str("") + pack_str("") + pack_str("bench")
