// What both report pages share: escaping text into HTML, data into an inline
// script, and the document's head (no network: a Content-Security-Policy
// that allows only what the page inlines).
import { REPORT_CSS } from './style.ts';

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON safe to put inside a <script> element. */
export const inlineJson = (d: unknown) => JSON.stringify(d).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** `<!DOCTYPE html>` through `</head>`, with the report's styles plus `extraCss`. */
export function htmlHead(title: string, extraCss = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${REPORT_CSS}${extraCss}</style>
</head>`;
}
