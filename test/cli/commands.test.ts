// The command table lists each command without loading it: its summary must
// be the one the command's module declares.
import { describe, it, expect } from 'vitest';
import { commands } from '../../src/cli/commands.ts';

describe('the command table', () => {
  it('names each command as its module does', async () => {
    for (const entry of commands) {
      const cmd = await entry.load();
      expect(cmd.name).toBe(entry.name);
      expect(cmd.summary).toBe(entry.summary);
    }
  });
});
