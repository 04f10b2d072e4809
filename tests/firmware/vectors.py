"""Fixed inputs through the firmware core; prints one line per result.

Run under CPython (imported by tests) and under MicroPython WebAssembly
(tests/firmware/run_mpy.mjs): the two outputs must be byte-identical.
Only MicroPython-compatible code belongs here.
"""

from firmware.core import binary, fill, frame, payload, reading, rtcstate, scale
from firmware.core.bootguard import BootGuard
from firmware.core.fqueue import FlashQueue
from firmware.core.policy import Policy, PolicyConfig
from firmware.core.remote import RemoteConfig
from firmware.core.sampling import History, emptied, make_sampled_reading, robust
from firmware.core.seq import SeqCounter
from firmware.core.zeroing import rezero
from firmware.provision import Provisioner

GEOMETRIES = ((1000, 150, 250), (1200, 0, 0), (800, 300, 200), (1, 0, 0))
DISTANCES = (None, 0, 120, 249, 250, 300, 650, 1150, 1200, 1201, 1250, 1999, 20000)
COUNTS = (None, -8388608, 8388607, 84211, 84000, 83000, 84212, 90000, 305211, 5000000, 8388606)
CALS = ((215000, 10000), (3, 1), (21500, 1000), (1000003, 20000))


def lines(seq_path):
    """Yield the result lines for every vector."""
    for depth, offset, dead in GEOMETRIES:
        for d in DISTANCES:
            yield "fill %d %d %d %s -> %d" % (depth, offset, dead, d,
                                                fill.fill_dpct(d, depth, offset, dead))
    for level in (0, 1, 250, 500, 999, 1000):
        yield "volume %d %d %d" % (level, fill.volume_dpct(level, 1000, 400, 800),
                                   fill.volume_dpct(level, 1000, 900, 600))
    for cal_counts, cal_grams in CALS:
        for c in COUNTS:
            if c is not None:
                yield "grams %d %d/%d -> %d" % (c, cal_counts, cal_grams,
                                                scale.grams(c, 84211, cal_counts, cal_grams))
    yield "calibrate %r" % (scale.calibrate(84211, 305211, 10000),)
    yield "calibrate %r" % (scale.calibrate(84211, 1000, 10000),)
    seqs = SeqCounter(seq_path, lease=4)
    cfg = reading.BinConfig("bin-0001", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
    ts = 1764800000000
    for i, d in enumerate(DISTANCES):
        c = COUNTS[i % len(COUNTS)]
        r = reading.make_reading(cfg, seqs.next(), ts + i * 60000, i % 3 != 0, d, c,
                                 3000 + i, -400 + 97 * i)
        body = payload.encode_json(r)
        yield body.decode()
        yield "binary %s" % "".join("%02x" % b for b in binary.encode([r]))
        yield frame.encode(body).decode().strip()
    again = SeqCounter(seq_path, lease=4)
    yield "seq after reboot %d" % again.next()
    yield "reply %r" % (frame.parse_reply(b"ACK bin-0001 7\n"),)
    q = FlashQueue(seq_path + "-q", max_bytes=60)
    for i in range(12):
        q.append(b"rec-%d" % i)
    q.pop(2)
    yield "queue %d dropped %d %r" % (len(q), q.dropped, q.peek(3))
    with open(seq_path + "-q.dat", "ab") as f:
        f.write(b"\x05tor")  # a torn append
    q = FlashQueue(seq_path + "-q", max_bytes=60)
    yield "queue after torn write %d %r" % (len(q), q.peek(20))
    policy = Policy(PolicyConfig())
    for i, d in enumerate(DISTANCES):
        r = reading.make_reading(cfg, i, ts + i * 900000, True, d, 300000, 3600, 150 + 40 * i)
        send, why = policy.on_reading(r)
        if send:
            policy.sent(r)
        yield "policy %d %r %s %d" % (i, send, why, policy.next_interval_s())
    h = History(stuck_wakes=3)
    sets = ([650, 652, 649, 120, 651], [600, 640, 620, 660, 630], [None] * 5, [700] * 5,
            [700] * 5, [700] * 5, [200, 201, 199, 200, 202], [None, 300, 310, None, 305])
    for i, ds in enumerate(sets):
        yield "robust %r" % (robust(ds),)
        r = make_sampled_reading(cfg, 100 + i, ts + i * 900000, True, ds,
                                 [300000, 300010, None], 3600, 200, h)
        yield payload.encode_json(r).decode()
    load = [0]
    prov = Provisioner(seq_path + "-config.json", lambda: 84211 + load[0] * 21537)
    for line in ("SET bin_id bin-7", "SET depth_mm 99", "SET depth_mm 1100", "CAL 1000", "TARE",
                 "SET bin_id bad id", "FLY"):
        yield "provision %s -> %s" % (line, prov.handle(line))
    load[0] = 10
    yield "provision CAL -> %s" % prov.handle("CAL 10000")
    yield "provision SAVE -> %s" % prov.handle("SAVE")
    again = Provisioner(seq_path + "-config.json", lambda: 0)
    yield "provision saved %s %d %d" % (again.config["bin_id"], again.config["cal_counts"],
                                        again.config["cal_grams"])
    boots = [BootGuard(seq_path + "-boots").safe_mode for _ in range(4)]
    guard = BootGuard(seq_path + "-boots")
    guard.good()
    yield "boots %r then %r" % (boots, BootGuard(seq_path + "-boots").safe_mode)
    yield from remote_lines(seq_path)


def remote_lines(seq_path):
    """Remote configs offered in turn, and what survives a reboot."""
    rc = RemoteConfig(seq_path + "-remote.json")
    for body in REMOTE_CONFIGS:
        applied, status = rc.offer(body)
        yield "remote %s -> %r %r v%d interval %d" % (body.decode(), applied, status, rc.version,
                                                      rc.policy().interval_s)
    again = RemoteConfig(seq_path + "-remote.json")
    yield "remote after reboot v%d refused %d samples %d" % (again.version, again.refused,
                                                            again.samples())
    yield from rtc_lines(seq_path)


def rtc_lines(seq_path):
    """State through RTC memory, and the sequence counter resumed from it."""
    policy, history, life = Policy(PolicyConfig()), History(), rtcstate.LifeState()
    cfg = reading.BinConfig("bin-0001", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
    for i in range(3):
        r = make_sampled_reading(cfg, i, 1764800000000 + i * 900000, True, [400 - 50 * i] * 3,
                                 [300000] * 3, 3600, 200 + 300 * i, history)
        policy.on_reading(r)
    seqs = SeqCounter(seq_path + "-rseq", lease=8)
    for _ in range(3):
        seqs.next()
    life.seq_next, life.seq_leased_to, life.synced = seqs.peek(), seqs.leased_to, True
    blob = rtcstate.dump(policy, history, life)
    yield "rtc %s" % blob.decode()
    p2, h2, l2 = Policy(PolicyConfig()), History(), rtcstate.LifeState()
    yield "rtc load %r %r" % (rtcstate.load(blob, p2, h2, l2), rtcstate.dump(p2, h2, l2) == blob)
    yield "rtc garbage %r %r" % (rtcstate.load(b"\xff{", p2, h2, l2),
                                 rtcstate.load(b"", p2, h2, l2))
    again = SeqCounter(seq_path + "-rseq", lease=8)
    yield "seq resume %r next %d" % (again.resume(l2.seq_next, l2.seq_leased_to), again.next())
    stale = SeqCounter(seq_path + "-rseq", lease=8)
    yield "seq stale %r next %d" % (stale.resume(1, 4), stale.next())
    yield from zeroing_lines()


# (fill before mm, distance after mm, counts after, extra flags): 215 counts are 10 g.
ZEROING = (
    (400, 1140, [116461, 116400, 116520], 0),  # emptied, drifted +1.5 kg: re-zero
    (400, 1140, [53000, 53050, 52990], 0),  # drifted -1.45 kg (below tare): re-zero
    (400, 1140, [301711, 301711, 301711], 0),  # 10 kg left in the bin: keep the tare
    (400, 1140, [116461, 116400, 125000], 0),  # samples 400 g apart: someone on it
    (400, 1140, [116461, 116400, 116520], 0x0400),  # lid open: being emptied right now
    (1100, 1140, [116461, 116400, 116520], 0),  # empty before too: no emptying seen
    (400, 900, [116461, 116400, 116520], 0),  # 24 % after: not empty
    (400, 1140, [8388607, 8388607, 8388607], 0),  # saturated cell
    (400, 1140, [None, None, None], 0),  # no load-cell samples
)


def zeroing_lines():
    """Re-zero after an emptying, and every reason not to."""
    for before_mm, after_mm, counts, extra in ZEROING:
        cfg = reading.BinConfig("bin-0001", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
        history = History()
        make_sampled_reading(cfg, 1, 1764800000000, True, [before_mm] * 3, [84211] * 3, 3600,
                             200, history)
        prev = history.prev_fill
        r = make_sampled_reading(cfg, 2, 1764800900000, True, [after_mm] * 3, counts, 3600,
                                 200, history)
        r.flags |= extra
        was = emptied(prev, r)
        tare = rezero(cfg, counts, r) if was else None
        yield "zero %d->%d %r emptied %r tare %r weight %r flags %d quality %d" % (
            before_mm, after_mm, counts, was, tare, r.weight_g, r.flags, r.quality)


REMOTE_CONFIGS = (
    b'{"version": 2, "interval_s": 600, "samples": 7}',
    b'{"version": 2, "interval_s": 600, "samples": 7}',
    b'{"version": 3, "interval_s": 30}',
    b'{"version": 3, "interval_s": 30}',
    b'{"version": 4, "interval_s": 600, "min_interval_s": 900}',
    b'{"version": 5, "colour": 1}',
    b'{"version": 6, "batch_size": "8"}',
    b'{"version": 7, "near_full_dpct": 950}',
    b'{"interval_s": 600}',
    b'[1, 2]',
    b'{"version": 1}',
    b'not json',
    b'not json',
    b'{"version": 9, "heartbeat_s": 7200, "interval_s": 900}',
)


def main(seq_path):
    """Print every line."""
    for line in lines(seq_path):
        print(line)
