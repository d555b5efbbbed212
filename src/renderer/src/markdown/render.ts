// Markdown → HTML with KaTeX math. Math is cut out before marked sees the text
// (so `_` and `*` inside formulas are not read as emphasis), replaced by inert
// placeholders, and put back as KaTeX HTML afterwards. Code spans and fenced
// blocks are left alone, so a `$` in code is just a dollar.
import katex from 'katex';
import { marked } from 'marked';

const PH = (i: number) => `LLMATHPH${i}X`;
const PH_RE = /LLMATHPH(\d+)X/g;

interface MathPiece {
  tex: string;
  display: boolean;
}

/** Splits out $$…$$ and $…$ math; returns the text with placeholders and the pieces. */
export function extractMath(src: string): { text: string; math: MathPiece[] } {
  const math: MathPiece[] = [];
  let out = '';
  let i = 0;
  const n = src.length;
  const atLineStart = (k: number) => k === 0 || src[k - 1] === '\n';
  while (i < n) {
    const ch = src[i];
    // fenced code block: copy through to the closing fence
    if ((ch === '`' || ch === '~') && atLineStart(i) && src.startsWith(ch.repeat(3), i)) {
      const fence = /^(`{3,}|~{3,})/.exec(src.slice(i))![1];
      const close = src.indexOf('\n' + fence, i + fence.length);
      const nl = close < 0 ? -1 : src.indexOf('\n', close + 1 + fence.length);
      const end = close < 0 || nl < 0 ? n : nl;
      out += src.slice(i, end);
      i = end;
      continue;
    }
    // inline code span: copy through to the matching run of backticks
    if (ch === '`') {
      let run = 1;
      while (src[i + run] === '`') run++;
      const ticks = '`'.repeat(run);
      const close = src.indexOf(ticks, i + run);
      if (close >= 0) {
        out += src.slice(i, close + run);
        i = close + run;
        continue;
      }
      out += src.slice(i, i + run);
      i += run;
      continue;
    }
    if (ch === '\\' && src[i + 1] === '$') {
      out += '\\$';
      i += 2;
      continue;
    }
    if (ch === '$') {
      if (src[i + 1] === '$') {
        const close = src.indexOf('$$', i + 2);
        if (close > i + 2) {
          math.push({ tex: src.slice(i + 2, close), display: true });
          out += PH(math.length - 1);
          i = close + 2;
          continue;
        }
      } else {
        // Inline: no space just inside the dollars, no digit right after the
        // closing one (so "$5 and $6" stays text), and no newline pair inside.
        let j = i + 1;
        while (j < n) {
          if (src[j] === '\\') {
            j += 2;
            continue;
          }
          if (src[j] === '$') break;
          if (src[j] === '\n' && src[j + 1] === '\n') {
            j = n;
            break;
          }
          j++;
        }
        const body = j < n ? src.slice(i + 1, j) : '';
        if (body.length > 0 && !/^\s/.test(body) && !/\s$/.test(body) && !/\d/.test(src[j + 1] ?? '')) {
          math.push({ tex: body, display: false });
          out += PH(math.length - 1);
          i = j + 1;
          continue;
        }
      }
    }
    out += ch;
    i++;
  }
  return { text: out, math };
}

function renderTex(p: MathPiece): string {
  try {
    return katex.renderToString(p.tex, { displayMode: p.display, throwOnError: false, output: 'html' });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return `<span class="math-error" title="${escapeHtml(msg)}">${escapeHtml(p.tex)}</span>`;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const DROP_TAGS = new Set(['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'STYLE', 'LINK', 'META', 'BASE', 'FORM']);

/**
 * Removes active content from rendered Markdown. The CSP already blocks inline
 * script; this also drops event handlers, javascript: URLs and frames.
 */
function sanitize(html: string): string {
  const tpl = document.createElement('template');
  tpl.innerHTML = html;
  const walk = (el: Element) => {
    for (const child of Array.from(el.children)) {
      if (DROP_TAGS.has(child.tagName)) {
        child.remove();
        continue;
      }
      for (const attr of Array.from(child.attributes)) {
        const name = attr.name.toLowerCase();
        const value = attr.value.trim().toLowerCase();
        if (name.startsWith('on') || ((name === 'href' || name === 'src' || name === 'xlink:href') && value.startsWith('javascript:'))) {
          child.removeAttribute(attr.name);
        }
      }
      if (child.tagName === 'A') {
        child.setAttribute('target', '_blank');
        child.setAttribute('rel', 'noopener noreferrer');
      }
      walk(child);
    }
  };
  walk(tpl.content as unknown as Element);
  return tpl.innerHTML;
}

export function renderMarkdown(src: string): string {
  const { text, math } = extractMath(src);
  const html = marked.parse(text, { async: false, gfm: true, breaks: false }) as string;
  return sanitize(html.replace(PH_RE, (_, k: string) => (math[Number(k)] ? renderTex(math[Number(k)]) : '')));
}
