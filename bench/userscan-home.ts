import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

const HASH_CHARS = "0123456789abcdfghijklmnpqrsvwxyz";

export interface Home {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** Files (and symlinks) written with a reference. */
  refs: number;
  /** Store paths made, some referenced. */
  paths: number;
}

/**
 * A home-shaped tree of about `files` files: per user, projects with node_modules (many small
 * JavaScript files, package.json, `.bin` symlinks, nested node_modules) and virtualenvs
 * (site-packages of .py, `__pycache__` .pyc, extension .so files of 16–256 KiB with an RPATH
 * into the store, a `bin/python` symlink into the store, scripts with store shebangs), a few
 * gzip logs, and `large` big binaries of 2–12 MiB (half with a reference in their head, as an
 * ELF's RPATH is). Deterministic: the same tree every run. About 5 KiB a file on average, so 200 000 files
 * ≈ 1 GiB.
 */
export function makeHome(home: string, store: string, files = 200_000, large = 40): Home {
  // mulberry32: a linear congruential generator's low bits repeat too soon for `rnd(8)`.
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  const random = randomBytes(8 << 20);
  const words = "const require module exports function return the quick brown fox import numpy as np def self class value async await ";
  const text = Buffer.from(words.repeat(Math.ceil((8 << 20) / words.length)).slice(0, 8 << 20));
  const pathCount = Math.max(50, Math.min(3000, Math.round(files / 70)));
  const storePaths = Array.from({ length: pathCount }, (_, i) => {
    let hash = "";
    for (let k = 0; k < 32; k++) hash += HASH_CHARS[(i * 7 + k * 13 + (i >> k % 8)) % 32];
    return `${store}/${hash}-pkg${i}-1.${i % 10}`;
  });
  for (const p of storePaths) fs.mkdirSync(p, { recursive: true });
  const out: Home = { files: 0, dirs: 0, symlinks: 0, bytes: 0, refs: 0, paths: pathCount };
  const ref = () => storePaths[out.refs++ % pathCount] as string;
  const mkdir = (d: string) => {
    fs.mkdirSync(d, { recursive: true });
    out.dirs++;
  };
  const body = (size: number, binary: boolean, refAt?: number): Buffer => {
    const src = binary ? random : text;
    const data = Buffer.allocUnsafe(size);
    for (let off = 0; off < size; ) {
      const start = rnd(src.length - 65536);
      off += src.copy(data, off, start, start + Math.min(65536, size - off));
    }
    if (refAt !== undefined) {
      const r = Buffer.from(`${ref()}/lib\0`);
      if (refAt + r.length < size) r.copy(data, refAt);
      else out.refs--;
    }
    return data;
  };
  const write = (file: string, data: Buffer | string) => {
    fs.writeFileSync(file, data);
    out.files++;
    out.bytes += data.length;
  };
  const small = (file: string, binary = false) => {
    const size = 120 + rnd(rnd(10) === 0 ? 24 << 10 : 5 << 10);
    write(file, body(size, binary, rnd(40) === 0 ? rnd(Math.max(1, size - 300)) : undefined));
  };
  const link = (target: string, at: string) => {
    fs.symlinkSync(target, at);
    out.symlinks++;
  };

  const nodeModules = (dir: string, packages: number, depth: number) => {
    mkdir(path.join(dir, ".bin"));
    for (let p = 0; p < packages && out.files < files; p++) {
      const pkg = path.join(dir, `pkg-${p}-${rnd(1000)}`);
      mkdir(path.join(pkg, "lib"));
      write(path.join(pkg, "package.json"), `{"name":"pkg-${p}","version":"1.${p % 10}.0","main":"lib/index.js"}\n`);
      small(path.join(pkg, "README.md"));
      small(path.join(pkg, "LICENSE"));
      const n = 3 + rnd(14);
      for (let f = 0; f < n; f++) small(path.join(pkg, "lib", `m${f}.js`));
      if (rnd(8) === 0) link(`../${path.basename(pkg)}/lib/m0.js`, path.join(dir, ".bin", `cmd-${p}`));
      if (depth < 2 && rnd(6) === 0) nodeModules(path.join(pkg, "node_modules"), 2 + rnd(6), depth + 1);
    }
  };
  const venv = (dir: string, packages: number) => {
    const site = path.join(dir, "lib", "python3.11", "site-packages");
    mkdir(path.join(dir, "bin"));
    link(`${ref()}/bin/python3.11`, path.join(dir, "bin", "python"));
    for (let s = 0; s < 4; s++) write(path.join(dir, "bin", `tool${s}`), `#!${ref()}/bin/python3.11\nimport sys\n`);
    for (let p = 0; p < packages && out.files < files; p++) {
      const pkg = path.join(site, `mod${p}`);
      mkdir(path.join(pkg, "__pycache__"));
      const n = 2 + rnd(10);
      for (let f = 0; f < n; f++) {
        small(path.join(pkg, `part${f}.py`));
        small(path.join(pkg, "__pycache__", `part${f}.cpython-311.pyc`), true);
      }
      if (rnd(8) === 0) {
        const size = (16 << 10) + rnd(240 << 10);
        write(path.join(pkg, `_native${p}.cpython-311-x86_64-linux-gnu.so`), body(size, true, 256 + rnd(1024)));
      }
    }
  };

  for (let b = 0; b < large; b++) {
    const dir = path.join(home, `user${b % 4}`, "bin");
    if (b < 4) mkdir(dir);
    write(path.join(dir, `big${b}`), body((2 + rnd(10)) << 20, true, b % 2 === 0 ? 512 + rnd(4096) : undefined));
  }
  for (let u = 0; out.files < files; u++) {
    const user = path.join(home, `user${u % 4}`);
    const project = path.join(user, `project${Math.floor(u / 4)}`);
    mkdir(path.join(project, "logs"));
    for (let g = 0; g < 3; g++) write(path.join(project, "logs", `build${g}.log.gz`), gzipSync(body(8 << 10, false, g === 0 ? 100 : undefined)));
    nodeModules(path.join(project, "node_modules"), 150, 0);
    venv(path.join(project, ".venv"), 120);
  }
  return out;
}
