// The HTML report in a real browser: `bootpath repro --report` on the bundled
// scenario, opened in headless Chromium (Debian's chromium, driven by
// playwright-core; nothing downloaded). The page loads nothing from anywhere,
// draws every kexec segment, the stale Xen frame and the new kernel at the
// addresses the run used, a click on a hypervisor write shows its field and
// instruction count, and a screenshot of it is not blank.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const root = new URL('../../', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const hex = (n: number) => `0x${n.toString(16)}`;

interface ReproJson {
  outcome: string;
  load: { segments: { name: string; address: number; memsz: number }[] };
  kernelEntry: { outputPhys: number } | null;
  xen: { frames: { gfn: number; role: string }[]; hypervisorWrites: { icount: number; addr: number; field: string }[] };
}

describe('the HTML report in headless Chromium', () => {
  const dir = join(tmpdir(), `bootpath-report-${process.pid}`);
  const file = join(dir, 'repro.html');
  let json: ReproJson;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(process.execPath, [join(root, 'bin/bootpath.js'), 'repro', '--quiet', '--no-chain', '--json', '--report', file], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    expect(r.stderr).toBe('');
    json = JSON.parse(r.stdout) as ReproJson;
    expect(json).toMatchObject({ schema: 'bootpath/1', command: 'repro' });
    expect(existsSync(CHROMIUM), `${CHROMIUM}: install Debian's chromium (apt-get install chromium), as .ci/run does`).toBe(true);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (!process.env.BOOTPATH_KEEP_REPORT) rmSync(dir, { recursive: true, force: true });
  });

  /** Click where the last of `marks` is drawn, as a user would, and say what is drawn on top there (marks may overlap). */
  async function clickTopmost(marks: ReturnType<Page['locator']>) {
    await marks.last().scrollIntoViewIfNeeded();
    const box = (await marks.last().boundingBox())!;
    const x = box.x + box.width / 2, y = box.y + box.height / 2;
    const hit = await page.evaluate(([px, py]) => {
      const el = document.elementFromPoint(px!, py!)!;
      return { field: el.getAttribute('data-field'), icount: Number(el.getAttribute('data-icount')), addr: el.getAttribute('data-addr') };
    }, [x, y]);
    expect(hit.field).toBeTruthy();
    await page.mouse.click(x, y);
    return hit;
  }

  it('is one self-contained file: nothing loaded from anywhere, no errors', () => {
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link\b|<img\b|@import|url\(/i);
    expect(requests).toEqual([`file://${file}`]);
    expect(errors).toEqual([]);
  });

  it('draws every kexec segment, the stale Xen frame and the new kernel at the run\'s addresses', async () => {
    const regions = await page.$$eval('#map-svg .region', (els) => els.map((e) => ({
      kind: e.getAttribute('data-kind'), start: e.getAttribute('data-start'), end: e.getAttribute('data-end'), label: e.getAttribute('data-label'),
    })));
    expect(json.load.segments.length).toBeGreaterThanOrEqual(3);
    for (const s of json.load.segments) {
      expect(regions, s.name).toContainEqual({ kind: 'segment', start: hex(s.address), end: hex(s.address + s.memsz), label: `kexec segment: ${s.name}` });
    }
    expect(json.xen.frames.length).toBeGreaterThan(0);
    for (const f of json.xen.frames) {
      expect(regions).toContainEqual(expect.objectContaining({ kind: 'xen-frame', start: hex(f.gfn * 4096), end: hex(f.gfn * 4096 + 4096) }));
    }
    expect(regions).toContainEqual(expect.objectContaining({ kind: 'image', start: hex(json.kernelEntry!.outputPhys) }));
    expect(regions).toContainEqual(expect.objectContaining({ kind: 'ram', start: '0x0' }));
    expect(regions.filter((r) => r.kind === 'handoff').length).toBeGreaterThan(0);
    expect(regions.filter((r) => r.kind === 'decompressor').length).toBeGreaterThan(0);
    // Each phase's footprint: the frames it wrote.
    for (const p of ['purgatory', 'decompressor']) expect(regions.filter((r) => r.kind === `wrote-${p}`).length, p).toBeGreaterThan(0);
    // The timeline has the boot's phases.
    expect(await page.$$eval('#timeline-svg .phase', (els) => els.map((e) => e.getAttribute('class')))).toEqual(expect.arrayContaining(['phase phase-purgatory', 'phase phase-decompressor']));
  });

  it('zooms to the stale frame, and a click on a hypervisor write shows its field and instruction count', async () => {
    const frame = json.xen.frames.find((f) => f.role === 'shared_info') ?? json.xen.frames[0]!;
    await page.fill('.map-goto input', `${hex(frame.gfn * 4096)}+0x1000`);
    await page.click('.map-goto button');
    expect(await page.textContent('.map-range')).toBe(`${hex(frame.gfn * 4096)} - ${hex(frame.gfn * 4096 + 4096)} (4 KiB)`);
    // Zoomed in this far, the bytes of the frame and symbols are drawn.
    expect(await page.$$eval('#map-svg .byte', (els) => els.length)).toBe(4096);
    expect(await page.$$eval('#map-svg .symbol', (els) => els.length)).toBeGreaterThan(0);
    const marks = page.locator('#map-svg .mark.xen-write');
    expect(await marks.count()).toBeGreaterThan(0);
    const hit = await clickTopmost(marks);
    const details = (await page.textContent('#details'))!;
    expect(await page.isVisible('#details')).toBe(true);
    expect(details).toContain('Hypervisor write');
    expect(details).toContain(`field${hit.field}`);
    expect(details).toContain(`instruction${hit.icount.toLocaleString('en-US')} (virtual clock)`);
    // It is one of the run's writes.
    expect(json.xen.hypervisorWrites).toContainEqual(expect.objectContaining({ field: hit.field, icount: hit.icount, addr: Number(hit.addr) }));
    expect(await page.$$eval('#map-svg .mark.highlight', (els) => els.length)).toBe(1);
  });

  it('a click on a write in the timeline finds it on the memory map', async () => {
    await page.click('.map-all');
    const { field, icount } = await clickTopmost(page.locator('#timeline-svg .event.xen-write'));
    expect(await page.textContent('#details')).toContain(`field${field}`);
    await page.click('#details button:not(.close)');
    const hl = await page.$eval('#map-svg .mark.highlight', (e) => ({ field: e.getAttribute('data-field'), icount: Number(e.getAttribute('data-icount')) }));
    expect(hl).toEqual({ field, icount });
  });

  it('takes a screenshot that is not blank', async () => {
    await page.click('.map-ram');
    await page.evaluate(() => window.scrollTo(0, 0));
    const shot = join(dir, 'report.png');
    const png = await page.screenshot({ path: shot });
    // Decode it in the page (a data: image is allowed by the report's policy) and look at the pixels.
    const stats = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const g = c.getContext('2d')!;
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      const colors = new Set<number>();
      let inked = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i]! < 235 || px[i + 1]! < 235 || px[i + 2]! < 235) inked++;
        colors.add((px[i]! >> 3) << 10 | (px[i + 1]! >> 3) << 5 | (px[i + 2]! >> 3));
      }
      return { width: c.width, height: c.height, inked: inked / (px.length / 4), colors: colors.size };
    }, png.toString('base64'));
    expect(stats.width).toBe(1400);
    expect(stats.inked).toBeGreaterThan(0.05);
    expect(stats.colors).toBeGreaterThan(30);
    process.stdout.write(`report screenshot: ${shot} (${(stats.inked * 100).toFixed(0)}% inked, ${stats.colors} colours; BOOTPATH_KEEP_REPORT=1 keeps it)\n`);
  });
});

describe('the sweep report in headless Chromium', () => {
  it('draws one cell per run, coloured by class, and a click gives the run and the command that reproduces it', async () => {
    const job = { scenarioFile: '/s/default.json', over: 'range' as const, range: { from: 0x100, to: 0x102 }, step: 1, seeds: [7], shifts: [0, 500], budget: 1000 };
    const runs = [0x100, 0x101, 0x102].flatMap((gfn, k) => [0, 500].map((shift, s) => ({ index: s * 3 + k, gfn, seed: 7, shift, region: 'gfns 0x100-0x102' })));
    const row = (gfn: number, shift: number, cls: string, mark: string) => ({
      gfn, seed: 7, shift, region: 'gfns 0x100-0x102', class: cls, kind: cls === 'crash' ? 'triple fault (#PF)' : '', mark, where: cls === 'crash' ? 'kernel: _text+0x24' : '',
      reason: cls === 'crash' ? 'triple fault' : 'reached x86_64_start_kernel', phase: 'kernel', rip: '0x0', instructions: 123456, diffBytes: 0, diffAt: null, bytesShifted: 0,
      imageShifts: [], xenWrites: 3, xenWritesIntoKernel: 0, latent: false, frameIs: 'RAM not used by the load', firstGuestWrite: null, ms: 1,
    });
    const rows = new Map(runs.filter((r) => r.index !== 5).map((r) => [r.index, row(r.gfn, r.shift, r.gfn === 0x101 ? 'crash' : 'clean', r.gfn === 0x101 ? 'T' : '.')]));
    const res = { job, inputs: {}, references: [], runs, shards: [], rows, stats: { workers: 1, seconds: 1, ran: 5, resumed: 0, retried: 0, files: [] } };
    const { sweepReportData, sweepReportHtml } = await import('../../src/report/sweepReport.ts');
    const html = sweepReportHtml(sweepReportData(res as unknown as Parameters<typeof sweepReportData>[0], 'bootpath sweep --gfn-from 0x100 --gfn-to 0x102'));
    const dir = join(tmpdir(), `bootpath-sweep-report-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'sweep.html');
    writeFileSync(file, html);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-ready="true"]');
      const cells = await page.$$eval('.cell', (els) => els.map((e) => `${e.getAttribute('data-gfn')}:${e.getAttribute('data-mark')}`));
      expect([...cells].sort()).toEqual(['0x100:.', '0x100:.', '0x101:T', '0x101:T', '0x102:-', '0x102:.']);
      expect(await page.textContent('.legend')).toContain('crash: triple fault ×2');
      await page.click('.cell[data-gfn="0x101"]');
      const details = (await page.textContent('#details'))!;
      expect(details).toContain('crash (triple fault (#PF))');
      expect(details).toContain('bootpath sweep --scenario /s/default.json --gfn-from 0x101 --gfn-to 0x101 --seeds 7 --phase-shift 0 --max-instructions 1000');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
