// Options whose value may be left out: `--gdb` alone listens where gdb and QEMU's -s expect.
import { describe, it, expect } from 'vitest';
import { withOptionalValues, DEFAULT_GDB_LISTEN } from '../../src/cli/options.ts';
import { parseListen } from '../../src/debug/session.ts';

describe('--gdb', () => {
  it('takes 127.0.0.1:1234 when no address follows, the given one otherwise', () => {
    expect(withOptionalValues(['--gdb'])).toEqual(['--gdb', DEFAULT_GDB_LISTEN]);
    expect(withOptionalValues(['--gdb', '--entry', '32'])).toEqual(['--gdb', '127.0.0.1:1234', '--entry', '32']);
    expect(withOptionalValues(['--gdb', '4444'])).toEqual(['--gdb', '4444']);
    expect(parseListen('4444')).toEqual({ host: '127.0.0.1', port: 4444 });
    expect(parseListen('0.0.0.0:1')).toEqual({ host: '0.0.0.0', port: 1 });
    expect(parseListen('[::1]:5')).toEqual({ host: '::1', port: 5 });
    expect(() => parseListen('host:')).toThrow(/expected \[host:\]port/);
    expect(() => parseListen('70000')).toThrow(/0 to 65535/);
  });
});
