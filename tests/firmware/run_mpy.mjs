// Run a Python snippet in the official MicroPython WebAssembly port.
// Usage: node tests/firmware/run_mpy.mjs <repo root> <python code> [--mount DIR:/PATH ...]
// By default the repository's firmware/ (.py) is at /app/firmware and
// tests/firmware/vectors.py at /app/vectors.py. Each --mount copies DIR's .py and .mpy
// files to /PATH instead of that default. Prints the snippet's stdout; exits 1 with the
// traceback if it raised.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [root, code, ...rest] = process.argv.slice(2);
const mp = await loadMicroPython({ stdout: (line) => process.stdout.write(line + "\n") });

function copyTree(src, dst) {
  const parts = dst.split("/").filter((p) => p);
  for (let i = 1; i <= parts.length; i++) {
    const dir = "/" + parts.slice(0, i).join("/");
    if (!mp.FS.analyzePath(dir).exists) mp.FS.mkdir(dir);
  }
  for (const name of readdirSync(src)) {
    const path = join(src, name);
    if (statSync(path).isDirectory()) {
      if (name !== "__pycache__") copyTree(path, dst + "/" + name);
    } else if (name.endsWith(".py") || name.endsWith(".mpy")) {
      mp.FS.writeFile(dst + "/" + name, readFileSync(path));
    }
  }
}

const mounts = [];
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] !== "--mount") throw new Error("unknown argument " + rest[i]);
  mounts.push(rest[i + 1].split(":"));
}
if (mounts.length) {
  for (const [dir, at] of mounts) copyTree(dir, at);
} else {
  mp.FS.mkdir("/app");
  copyTree(join(root, "firmware"), "/app/firmware");
  mp.FS.writeFile("/app/vectors.py", readFileSync(join(root, "tests", "firmware", "vectors.py")));
}
mp.FS.mkdir("/data");
// A line "#--- top level" splits the snippet into parts run one after the other in the
// same interpreter. Between parts the port is back at its top level, the only place the
// WebAssembly port collects garbage: gc.collect() inside a call only marks a collection
// pending (the port cannot see roots held in wasm locals), so a heap measurement needs
// a gc.collect(), the marker, then gc.mem_alloc().
try {
  const parts = code.split(/^#--- top level$/m);
  mp.runPython("import sys\nsys.path.insert(0, '/app')\n" + parts[0]);
  for (const part of parts.slice(1)) mp.runPython(part);
} catch (e) {
  process.stderr.write(String(e).slice(0, 4000) + "\n");
  process.exit(1);
}
