// A MicroPython board on a serial line, for testing `binfleet firmware deploy` (mpremote).
// Usage: node tests/firmware/mpy_device.mjs <dump.json> [<preload.json>]
// stdin/stdout are the board's serial port (the test connects them to a pty). It speaks
// MicroPython's raw REPL the way the firmware does on a real board: Ctrl-A enters raw
// mode, code ends with Ctrl-D, the answer is "OK", output, \x04, error, \x04, ">"; Ctrl-D
// on an empty line soft-resets; raw-paste mode is declined ("R\x00"), so mpremote uses
// plain raw mode. The code runs in the MicroPython WebAssembly port with its filesystem
// at /flash (the working directory). On SIGTERM the board writes every file under
// /flash to <dump.json> as {path: base64} and exits.
import { readFileSync, writeFileSync } from "node:fs";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [dumpPath, preloadPath] = process.argv.slice(2);
let out = [];
const mp = await loadMicroPython({ linebuffer: false, stdout: (b) => out.push(...b) });
mp.FS.mkdir("/flash");
// The WebAssembly port's filesystem is Emscripten's: errno numbers differ from a
// board's (ENOENT is 44 there, 2 on a board) and stat("") fails where littlefs gives
// the working directory. This os shim, outside /flash, makes it answer as a board does.
mp.FS.mkdir("/shim");
mp.FS.writeFile("/shim/os.py", `import uos
from uos import *
_ERRNO = {44: 2, 20: 17, 54: 20, 31: 21, 55: 39, 2: 13}
def _call(f, *a):
    try:
        return f(*a)
    except OSError as e:
        n = e.args[0] if e.args else 0
        raise OSError(_ERRNO.get(n, n)) from None
def stat(p):
    return _call(uos.stat, p or ".")
def ilistdir(p="."):
    return _call(uos.ilistdir, p or ".")
def listdir(p="."):
    return _call(uos.listdir, p or ".")
def mkdir(p):
    return _call(uos.mkdir, p)
def rmdir(p):
    return _call(uos.rmdir, p)
def remove(p):
    return _call(uos.remove, p)
`);
const ERRNO = { 44: 2, 20: 17, 54: 20, 31: 21, 55: 39, 2: 13 };
const send = (s) => process.stdout.write(typeof s === "string" ? Buffer.from(s, "latin1") : s);
const reset = () => mp.runPython(
  "import sys\nif '/shim' not in sys.path: sys.path.insert(0, '/shim')\n" +
  "import os\nos.chdir('/flash')\n");
// Files the board already holds ({path: base64}), e.g. a provisioned config.
if (preloadPath) {
  for (const [path, b64] of Object.entries(JSON.parse(readFileSync(preloadPath, "utf8")))) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = "/flash/" + parts.slice(0, i).join("/");
      if (!mp.FS.analyzePath(dir).exists) mp.FS.mkdir(dir);
    }
    mp.FS.writeFile("/flash/" + path, Buffer.from(b64, "base64"));
  }
}
reset();

let raw = false;
let code = [];
let pending = Buffer.alloc(0);

function run(text) {
  out = [];
  let err = "";
  try {
    mp.runPython(text);
  } catch (e) {
    // Errors raised outside the shim (open()) carry Emscripten's errno: renumber.
    err = String(e.message || e).replace(/OSError: (\d+)\n?$/, (m, n) =>
      "OSError: " + (ERRNO[n] || n) + "\n");
  }
  if (process.env.MPY_DEVICE_DEBUG) process.stderr.write(JSON.stringify([text, err]) + "\n");
  send("OK");
  send(Buffer.from(out));
  send("\x04" + err + "\x04>");
}

function feed(byte) {
  if (!raw) {
    if (byte === 0x01) {
      raw = true;
      code = [];
      send("raw REPL; CTRL-B to exit\r\n>");
    }
    return;
  }
  if (byte === 0x01) {
    code = [];
    send("raw REPL; CTRL-B to exit\r\n>");
  } else if (byte === 0x02) {
    raw = false;
    send("\r\nMicroPython (BinFleet test board)\r\n>>> ");
  } else if (byte === 0x03) {
    code = [];
  } else if (byte === 0x04) {
    if (code.length === 0) {
      reset();
      send("OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>");
    } else {
      const text = Buffer.from(code).toString("utf8");
      code = [];
      run(text);
    }
  } else if (byte === 0x05) {
    code = [];
    pending = Buffer.from([0x05]);
  } else {
    code.push(byte);
  }
}

process.stdin.on("data", (chunk) => {
  for (const byte of chunk) {
    if (pending.length) {
      // \x05 A \x01 asks for raw-paste mode: decline it.
      pending = Buffer.concat([pending, Buffer.from([byte])]);
      if (pending.length === 3) {
        pending = Buffer.alloc(0);
        send("R\x00");
      }
      continue;
    }
    feed(byte);
  }
});

function dump() {
  const files = {};
  const walk = (dir) => {
    for (const name of mp.FS.readdir(dir)) {
      if (name === "." || name === "..") continue;
      const path = dir + "/" + name;
      if (mp.FS.isDir(mp.FS.stat(path).mode)) walk(path);
      else files[path.slice("/flash/".length)] = Buffer.from(mp.FS.readFile(path)).toString("base64");
    }
  };
  walk("/flash");
  writeFileSync(dumpPath, JSON.stringify(files));
  process.exit(0);
}
process.on("SIGTERM", dump);
