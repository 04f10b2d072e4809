"""`binfleet` command line: one entry point, one subcommand per component."""

import argparse
import json
import logging
import sys
from pathlib import Path

from protocol.errors import ProtocolError


def _cmd_demo(args: argparse.Namespace) -> int:
    from binfleet.demo import DemoOptions, main_demo

    return main_demo(DemoOptions(
        bins=args.bins, interval_s=args.interval, duration_s=args.for_s,
        data_dir=Path(args.data_dir), mqtt_url=args.mqtt_url, influx_url=args.influx_url,
        influx_token=args.influx_token, influx_org=args.influx_org,
        influx_bucket=args.influx_bucket))


def _cmd_gateway(args: argparse.Namespace) -> int:
    from gateway import config
    from gateway.service import run_forever

    cfg = config.load(args.config)
    if args.action == "dead-letters":
        from gateway import deadletters

        if args.replay_all or args.replay:
            ids = deadletters.all_ids(cfg) if args.replay_all else args.replay
            for line in deadletters.replay(cfg, ids):
                print(line)
        else:
            for line in deadletters.list_letters(cfg, args.limit):
                print(line)
        return 0
    run_forever(cfg)
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from cloud_ingest import config
    from cloud_ingest.server import IngestServer

    IngestServer(config.load(args.config)).run()
    return 0


def _cmd_fleet(args: argparse.Namespace) -> int:
    from cloud_ingest import config, db, registry

    cfg = config.load(args.config)
    engine = db.open_store(db.url_of(cfg.state_path, cfg.state_url))
    try:
        if args.action == "list":
            for row in registry.list_rows(engine, args.kind):
                print(json.dumps(row))
            return 0
        if not args.file:
            print("binfleet fleet import: a FILE is required", file=sys.stderr)
            return 2
        try:
            n = registry.import_rows(engine, args.kind,
                                     registry.load_rows(Path(args.file), args.kind))
        except registry.RegistryImportError as e:
            print(f"binfleet fleet import: {args.file}: nothing imported, "
                  f"{len(e.errors)} problem(s):", file=sys.stderr)
            for line in e.errors:
                print(f"  {line}", file=sys.stderr)
            return 1
        print(f"imported {n} {args.kind} from {args.file}")
        return 0
    finally:
        engine.dispose()


def _cmd_firmware(args: argparse.Namespace) -> int:
    from binfleet.firmware_build import BuildError, DeployError, build, deploy

    try:
        files = build(Path(args.out), args.board, args.fill_sensor, args.line_numbers)
    except BuildError as e:
        print(f"binfleet firmware build: {e}", file=sys.stderr)
        return 1
    total = sum(f.stat().st_size for f in files)
    print(f"built {len(files)} files, {total} bytes, into {args.out} (see {args.out}/MANIFEST)")
    if args.action == "deploy":
        if not args.port:
            print("binfleet firmware deploy: --port is required", file=sys.stderr)
            return 2
        try:
            items = deploy(Path(args.out), args.port)
        except DeployError as e:
            print(f"binfleet firmware deploy: {e}", file=sys.stderr)
            return 1
        print(f"deployed {', '.join(items)} to {args.port}; reset the board to start it")
    return 0


def _cmd_provision(args: argparse.Namespace) -> int:
    from binfleet.provision import ProvisionError, run, steps

    try:
        for reply in run(args.port, steps(args.set, args.tare, args.cal, args.save), args.baud):
            print(reply)
    except ProvisionError as e:
        print(f"binfleet provision: {e}", file=sys.stderr)
        return 1
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from hardware.sim import SimFleet

    url = urlsplit(args.mqtt_url)
    fleet = SimFleet(args.bins, (url.hostname or "127.0.0.1", url.port or 1883), args.data_dir,
                     seed=args.seed, prefix=args.prefix)
    published = fleet.run(args.count, args.interval)
    print(f"published {len(published)} readings from {args.bins} bins "
          f"({fleet.failed} publish attempts retried)")
    return 0


def _add_fleet(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    fl = sub.add_parser("fleet", help="import or list sites, bins and crews (the registry)")
    fl.add_argument("action", choices=["import", "list"])
    fl.add_argument("file", nargs="?", help="import: a .csv or .geojson file")
    fl.add_argument("--kind", required=True, choices=["sites", "bins", "crews"])
    fl.add_argument("--config", default=None, help="TOML file with an [ingest] table")
    fl.set_defaults(func=_cmd_fleet)


def _add_firmware(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    f = sub.add_parser("firmware", help="build the firmware bundle, or build and deploy it")
    f.add_argument("action", choices=["build", "deploy"])
    f.add_argument("--out", default="build/firmware-bundle", help="bundle folder")
    f.add_argument("--board", default="esp32-devkitc", help="board definition (hardware/boards)")
    f.add_argument("--fill-sensor", default="ultrasonic", choices=["ultrasonic", "vl53l1x"])
    f.add_argument("--port", help="deploy: the board's serial port (as mpremote takes it)")
    f.add_argument("--line-numbers", action="store_true",
                   help="keep line tables in the bytecode (tracebacks at the REPL; more heap)")
    f.set_defaults(func=_cmd_firmware)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    p = argparse.ArgumentParser(prog="binfleet", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="run broker, simulated bins, gateway and cloud_ingest")
    d.add_argument("--bins", type=int, default=50)
    d.add_argument("--interval", type=float, default=1.0, help="seconds between readings")
    d.add_argument("--for", dest="for_s", type=float, default=None,
                   help="stop after this many seconds (default: until Ctrl-C)")
    d.add_argument("--data-dir", default=".binfleet-demo")
    d.add_argument("--mqtt-url", default=None, help="use this broker, e.g. mqtt://host:1883")
    d.add_argument("--influx-url", default=None, help="write series to this InfluxDB v2 API")
    d.add_argument("--influx-token", default="")
    d.add_argument("--influx-org", default="binfleet")
    d.add_argument("--influx-bucket", default="binfleet")
    d.set_defaults(func=_cmd_demo)

    g = sub.add_parser("gateway", help="run the gateway, or inspect its dead letters")
    g.add_argument("action", nargs="?", choices=["run", "dead-letters"], default="run")
    g.add_argument("--config", default=None, help="TOML file with a [gateway] table")
    g.add_argument("--limit", type=int, default=50, help="dead letters to list")
    g.add_argument("--replay", type=int, nargs="+", metavar="ID",
                   help="check these dead letters again and buffer those that now pass")
    g.add_argument("--replay-all", action="store_true")
    g.set_defaults(func=_cmd_gateway)

    i = sub.add_parser("ingest", help="run cloud_ingest")
    i.add_argument("--config", default=None, help="TOML file with an [ingest] table")
    i.set_defaults(func=_cmd_ingest)

    _add_fleet(sub)

    _add_firmware(sub)

    pv = sub.add_parser("provision", help="set up and calibrate a bin over serial")
    pv.add_argument("--port", required=True, help="serial port or pyserial URL")
    pv.add_argument("--baud", type=int, default=115200)
    pv.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    pv.add_argument("--tare", action="store_true", help="zero the empty scale")
    pv.add_argument("--cal", type=int, metavar="GRAMS", help="calibrate with this mass on")
    pv.add_argument("--save", action="store_true", help="write the config to flash")
    pv.set_defaults(func=_cmd_provision)

    s = sub.add_parser("sim", help="run simulated bins against a broker")
    s.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    s.add_argument("--bins", type=int, default=10)
    s.add_argument("--count", type=int, default=None, help="readings per bin (default: forever)")
    s.add_argument("--interval", type=float, default=1.0,
                   help="seconds between readings; 0 = as fast as acknowledged, simulated clock")
    s.add_argument("--data-dir", default=".binfleet-sim")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--prefix", default="bin")
    s.set_defaults(func=_cmd_sim)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the binfleet command line."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request at INFO; the forwarder logs what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        code: int = args.func(args)
    except ProtocolError as e:
        print(f"binfleet {args.command}: bad config: {e}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
