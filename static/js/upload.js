// Entrant upload form: check the chosen image in the browser before uploading, then upload
// it with a progress bar. Plain ES module, no build step. The server stays the authority:
// it runs the same rules again (contest/imaging.py) and this script only saves entrants a
// long upload that would be refused. Without JavaScript the form posts normally.
//
// The rules come from data attributes rendered from the contest (templates/submit/
// _upload_attrs.html): data-formats, data-min-width (px), data-min-bytes / data-max-bytes
// (bytes; MB = 1024×1024), data-max-pixels, data-max-request (MAX_CONTENT_LENGTH).
// Messages are worded exactly as contest/messages.py words them.

const MIB = 1024 * 1024;
const MIN_HEIGHT_PX = 100;       // contest/imaging.py MIN_HEIGHT_PX (on with the width rule)
const MAX_ASPECT_RATIO = 20;     // contest/imaging.py MAX_ASPECT_RATIO
const FORMAT_LABELS = {
  JPEG: 'JPG', PNG: 'PNG', WEBP: 'WebP', GIF: 'GIF', BMP: 'BMP', TIFF: 'TIFF',
  HEIF: 'HEIC/HEIF', AVIF: 'AVIF', SVG: 'SVG', ICO: 'ICO', PDF: 'PDF', HTML: 'HTML网页',
  TEXT: '文本', JPEG2000: 'JPEG2000', JXL: 'JPEG XL', PSD: 'PSD', ZIP: 'ZIP压缩包', MP4: '视频',
};

/** Bytes → '1.4MB' (MB = 1024×1024 bytes), '4.5KB' or '80字节' below that, as
 * contest.messages.format_mb(precise=True). */
export function formatMB(bytes) {
  if (bytes < 1024) return `${bytes}字节`;
  if (bytes < MIB) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')}KB`;
  const mb = bytes / MIB;
  if (mb >= 100) return `${mb.toFixed(0)}MB`;
  let text = mb.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
  if (!text.includes('.') && bytes !== Number(text) * MIB) {
    text = mb.toFixed(6).replace(/0+$/, '');
  }
  return `${text}MB`;
}

/** A pixel count in Chinese units, as contest.messages.format_pixels: 1亿, 8100万. */
function formatPixels(count) {
  if (count >= 1e8 && count % 1e7 === 0) return `${count / 1e8}亿`;
  if (count >= 1e4) return `${+(count / 1e4).toFixed(4)}万`;
  return String(count);
}

const MESSAGES = {
  empty: () => '文件为空（0字节），请重新选择图片',
  format: (p) => `图片格式仅支持 ${p.allowed}（当前文件实际为 ${FORMAT_LABELS[p.actual] || p.actual || '未知'} 格式）`,
  size: (p) => {
    if (p.min && p.max) return `单张图片不低于${formatMB(p.min)}、不高于${formatMB(p.max)}（当前：${formatMB(p.actual)}）`;
    if (p.min) return `单张图片不低于${formatMB(p.min)}（当前：${formatMB(p.actual)}）`;
    return `单张图片不高于${formatMB(p.max)}（当前：${formatMB(p.actual)}）`;
  },
  width: (p) => `图片宽度不低于${p.min}像素（当前：${p.actual}像素）`,
  too_small_height: (p) => `图片高度过小（当前：${p.actual}像素），请上传完整的海报`,
  aspect: (p) => `图片长宽比例异常（当前：${p.width}×${p.height}像素），长边不得超过短边的${p.max}倍，请上传完整的海报`,
  bomb: (p) => `图片尺寸过大（${p.width}×${p.height}像素），像素总数不得超过${formatPixels(p.max_pixels)}，请缩小后再上传`,
  animated: (p) => `不支持动图或多帧图片（当前文件有${p.frames || '多'}帧），请导出为单张 JPG 或 PNG`,
  unsupported_jpeg: () => '不支持该 JPEG 编码方式（如无损或算术编码），请重新导出为标准 JPG',
  corrupt: () => '文件已损坏或上传不完整，请重新导出为标准 JPG 或 PNG 后再上传',
  request_too_large: (p) => `上传的内容超过 ${formatMB(p.max)} 的上限。单张图片不高于10MB，请压缩后重新上传。已填写的内容不会丢失。`,
};

// ------------------------------------------------------------------ reading the file

/** The real format from the first bytes (contest.imaging.sniff_format, abridged). */
export function sniff(b) {
  const at = (i, ...xs) => xs.every((x, k) => b[i + k] === x);
  const ascii = (i, s) => [...s].every((c, k) => b[i + k] === c.charCodeAt(0));
  if (at(0, 0xff, 0xd8, 0xff)) return 'JPEG';
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'PNG';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'GIF';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'WEBP';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'TIFF';
  if (ascii(0, 'BM') && b.length >= 14) return 'BMP';
  if (ascii(4, 'ftyp')) {
    const brands = [];
    for (let i = 8; i < Math.min(64, b.length); i += 4) brands.push(String.fromCharCode(...b.slice(i, i + 4)));
    if (brands.some((x) => x === 'avif' || x === 'avis')) return 'AVIF';
    if (brands.some((x) => /^(hei[cxms]|hev[cxms]|mif[12]|msf1)$/.test(x))) return 'HEIF';
    return 'MP4';
  }
  if (ascii(0, '%PDF')) return 'PDF';
  if (ascii(0, '8BPS')) return 'PSD';
  if (ascii(0, 'PK\x03\x04')) return 'ZIP';
  if (at(0, 0, 0, 1, 0)) return 'ICO';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(b.slice(0, 1024));
  if (/[\x00-\x08\x0e-\x1f]/.test(head)) return null;
  const text = head.replace(/^[\ufeff\s]+/, '').toLowerCase();
  if (text.includes('<svg')) return 'SVG';
  if (text.startsWith('<!doctype html') || /<(html|script|body|head|iframe)/.test(text)) return 'HTML';
  return text ? 'TEXT' : null;
}

/** EXIF Orientation (1–8) from a TIFF structure at `off`; 1 when absent or invalid. */
function exifOrientation(dv, off, end) {
  try {
    const little = dv.getUint16(off) === 0x4949;
    if (!little && dv.getUint16(off) !== 0x4d4d) return 1;
    const ifd = off + dv.getUint32(off + 4, little);
    const count = dv.getUint16(ifd, little);
    for (let i = 0; i < count; i++) {
      const entry = ifd + 2 + i * 12;
      if (entry + 12 > end) break;
      if (dv.getUint16(entry, little) === 0x0112) {
        const v = dv.getUint16(entry + 8, little);
        return v >= 1 && v <= 8 ? v : 1;
      }
    }
  } catch (e) { /* broken EXIF means "upright" (PITFALLS.md #5) */ }
  return 1;
}

const LOSSLESS_OR_ARITHMETIC = new Set([0xc3, 0xc7, 0xcb, 0xcf, 0xc9, 0xca, 0xcd, 0xce]);
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** JPEG frame size, SOF marker and EXIF orientation, walking markers without decoding. */
export function jpegHeader(dv) {
  let pos = 2;
  let orientation = 1;
  let sawExif = false;
  while (pos + 4 <= dv.byteLength) {
    if (dv.getUint8(pos) !== 0xff) return null;
    let marker = dv.getUint8(pos + 1);
    pos += 2;
    while (marker === 0xff && pos < dv.byteLength) { marker = dv.getUint8(pos); pos += 1; }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda) return null;
    if (pos + 2 > dv.byteLength) return null;
    const length = dv.getUint16(pos);
    if (length < 2) return null;
    if (marker === 0xe1 && !sawExif && pos + 10 <= dv.byteLength
        && dv.getUint32(pos + 2) === 0x45786966 && dv.getUint16(pos + 6) === 0) {
      sawExif = true;
      orientation = exifOrientation(dv, pos + 8, Math.min(dv.byteLength, pos + length));
    }
    if (SOF.has(marker)) {
      if (pos + 7 > dv.byteLength) return null;
      return { height: dv.getUint16(pos + 3), width: dv.getUint16(pos + 5), sof: marker, orientation };
    }
    pos += length;
  }
  return null;
}

/** PNG size from IHDR, APNG frame count (acTL before IDAT) and eXIf orientation. */
export function pngHeader(dv) {
  if (dv.byteLength < 33 || dv.getUint32(12) !== 0x49484452) return null;
  const out = { width: dv.getUint32(16), height: dv.getUint32(20), frames: 1, orientation: 1 };
  let pos = 33;
  for (let n = 0; n < 10000 && pos + 8 <= dv.byteLength; n++) {
    const length = dv.getUint32(pos);
    const type = dv.getUint32(pos + 4);
    if (type === 0x6163544c && pos + 12 <= dv.byteLength) out.frames = Math.max(2, dv.getUint32(pos + 8)); // acTL
    if (type === 0x65584966) { // eXIf
      let off = pos + 8;
      if (dv.getUint32(off) === 0x45786966) off += 6;
      out.orientation = exifOrientation(dv, off, Math.min(dv.byteLength, pos + 8 + length));
    }
    if (type === 0x49444154 || type === 0x49454e44) break; // IDAT, IEND
    pos += 12 + length;
  }
  return out;
}

async function decodedWidth(file) {
  // Fallback when the header cannot be read: let the browser decode it upright.
  if (typeof createImageBitmap !== 'function') return null;
  try {
    const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const size = { width: bmp.width, height: bmp.height };
    bmp.close();
    return size;
  } catch (e) { return null; }
}

function readBlob(blob) {
  if (blob.arrayBuffer) return blob.arrayBuffer();
  return new Promise((resolve, reject) => { // older in-app browsers
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(blob);
  });
}

/** Check `file` against `rules`; returns {problems: [{rule, message}], info}. */
export async function inspect(file, rules) {
  const problems = [];
  const add = (rule, params) => problems.push({ rule, message: MESSAGES[rule](params) });
  if (file.size === 0) { add('empty', {}); return { problems, info: null }; }
  const readBytes = file.size <= 64 * MIB ? file.size : 4 * MIB;
  const buf = new Uint8Array(await readBlob(file.slice(0, readBytes)));
  const format = sniff(buf);
  const allowed = rules.formats.map((f) => FORMAT_LABELS[f] || f)
    .sort((a, b) => (a === 'JPG' ? -1 : b === 'JPG' ? 1 : a.localeCompare(b))).join('、');
  if (!rules.formats.includes(format)) {
    add('format', { allowed, actual: format });
    return { problems, info: null };
  }
  if ((rules.minBytes && file.size < rules.minBytes) || (rules.maxBytes && file.size > rules.maxBytes)) {
    add('size', { min: rules.minBytes, max: rules.maxBytes, actual: file.size });
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const header = format === 'JPEG' ? jpegHeader(dv) : pngHeader(dv);
  let width;
  let height;
  if (header) {
    if (header.sof && LOSSLESS_OR_ARITHMETIC.has(header.sof)) { add('unsupported_jpeg', {}); return { problems, info: null }; }
    if (header.width * header.height > rules.maxPixels) {
      add('bomb', { width: header.width, height: header.height, max_pixels: rules.maxPixels });
      return { problems, info: null };
    }
    if (header.frames > 1) { add('animated', { frames: header.frames }); return { problems, info: null }; }
    const turned = header.orientation >= 5;
    width = turned ? header.height : header.width;
    height = turned ? header.width : header.height;
  } else {
    const size = await decodedWidth(file);
    if (!size) { add('corrupt', {}); return { problems, info: null }; }
    ({ width, height } = size);
  }
  if (rules.minWidth) {
    if (width < rules.minWidth) add('width', { min: rules.minWidth, actual: width });
    if (height < MIN_HEIGHT_PX) add('too_small_height', { actual: height });
    else if (Math.max(width, height) > MAX_ASPECT_RATIO * Math.min(width, height)) {
      add('aspect', { width, height, max: MAX_ASPECT_RATIO });
    }
  }
  return { problems, info: { format, width, height, size: file.size } };
}

// ------------------------------------------------------------------------- the form

function rulesOf(form) {
  const num = (name) => (form.dataset[name] ? Number(form.dataset[name]) : null);
  return {
    formats: (form.dataset.formats || 'JPEG,PNG').split(',').map((s) => s.trim().toUpperCase()),
    minWidth: num('minWidth'),
    minBytes: num('minBytes'),
    maxBytes: num('maxBytes'),
    maxPixels: num('maxPixels') || 100000000,
    maxRequest: num('maxRequest'),
  };
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  if (text) node.textContent = text;
  return node;
}

function setupCharCounter(root) {
  root.querySelectorAll('textarea[data-char-count]').forEach((area) => {
    const max = Number(area.dataset.charCount);
    const counter = area.closest('[id^=field-]')?.querySelector('[data-char-counter]');
    if (!counter) return;
    const now = counter.querySelector('[data-char-now]');
    const update = () => {
      // as the server counts: NFC, '\r\n' as one line break, outer spaces ignored
      const n = [...area.value.normalize('NFC').replace(/\r\n?/g, '\n').trim()].length;
      now.textContent = String(n);
      counter.classList.toggle('over', n > max);
    };
    area.addEventListener('input', update);
    update();
  });
}

function setupForm(form) {
  const rules = rulesOf(form);
  const input = form.querySelector('[data-upload-input]');
  const check = form.querySelector('[data-upload-check]');
  const progress = form.querySelector('[data-upload-progress]');
  if (!input || !check) return;
  const state = { file: null, problems: [], checking: null, clicked: null };
  // the button pressed ("暂存" / "提交"), for browsers without SubmitEvent.submitter
  form.querySelectorAll('button[type=submit]').forEach((b) => {
    b.addEventListener('click', () => { state.clicked = b; });
  });

  const show = (problems, info) => {
    check.replaceChildren();
    form.querySelectorAll('[data-server-error]').forEach((n) => n.remove());
    problems.forEach((p) => check.append(el('p', { class: 'error', 'data-rule': p.rule }, p.message)));
    if (problems.length) {
      const clear = el('button', { type: 'button', class: 'btn small' }, '清除所选文件');
      clear.addEventListener('click', () => { input.value = ''; state.file = null; state.problems = []; show([], null); });
      const p = el('p', { class: 'hint' }, '请换一张符合要求的图片；也可以清除所选文件，先暂存其他信息。');
      p.append(' ', clear);
      check.append(p);
    } else if (info) {
      check.append(el('p', { class: 'ok', 'data-rule': 'ok' },
        `✓ 符合要求（${FORMAT_LABELS[info.format]}，${info.width}×${info.height}像素，${formatMB(info.size)}）`));
    }
    input.closest('.field')?.classList.toggle('has-error', problems.length > 0);
  };

  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    state.file = file || null;
    state.problems = [];
    if (!file) { show([], null); return; }
    check.replaceChildren(el('p', { class: 'muted' }, '正在检查图片…'));
    state.checking = inspect(file, rules).then(({ problems, info }) => {
      if (state.file !== file) return;
      state.problems = problems;
      show(problems, info);
    }).catch(() => { state.problems = []; check.replaceChildren(); });
  });

  form.addEventListener('submit', async (event) => {
    if (!state.file) return; // nothing to upload: an ordinary post
    event.preventDefault();
    const submitter = event.submitter || state.clicked;
    if (state.checking) await state.checking;
    if (state.problems.length) {
      check.querySelector('.error')?.scrollIntoView({ block: 'center' });
      input.focus();
      return;
    }
    if (rules.maxRequest && state.file.size > rules.maxRequest) {
      show([{ rule: 'request_too_large', message: MESSAGES.request_too_large({ max: rules.maxRequest }) }], null);
      return;
    }
    upload(form, submitter, progress, check);
  });
}

function upload(form, submitter, progress, check) {
  const data = new FormData(form);
  if (submitter && submitter.name) data.append(submitter.name, submitter.value);
  const buttons = form.querySelectorAll('button, input[type=submit]');
  buttons.forEach((b) => { b.disabled = true; });
  const bar = progress.querySelector('.progress');
  const fill = progress.querySelector('.progress > span');
  const text = progress.querySelector('[data-upload-progress-text]');
  progress.hidden = false;
  const xhr = new XMLHttpRequest();
  // getAttribute: the buttons are named "action", which shadows form.action
  xhr.open('POST', new URL(form.getAttribute('action') || window.location.href, window.location.href));
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) xhr.setRequestHeader('X-CSRFToken', token.content);
  xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
  xhr.upload.addEventListener('progress', (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((e.loaded / e.total) * 100);
    fill.style.width = `${pct}%`;
    bar.setAttribute('aria-valuenow', String(pct));
    text.textContent = pct < 100 ? `正在上传… ${pct}%（${formatMB(e.loaded)} / ${formatMB(e.total)}）`
      : '上传完成，正在检查图片并保存…';
  });
  const fail = (message) => {
    buttons.forEach((b) => { b.disabled = false; });
    progress.hidden = true;
    check.replaceChildren(el('p', { class: 'error', 'data-rule': 'network' }, message));
  };
  xhr.addEventListener('load', () => {
    const type = xhr.getResponseHeader('Content-Type') || '';
    if (xhr.status === 200 && type.includes('json')) {
      try {
        window.location.assign(JSON.parse(xhr.responseText).redirect);
        return;
      } catch (e) { /* fall through to showing the page */ }
    }
    if (type.includes('html')) { showPage(xhr.responseText); return; }
    fail(`上传失败（错误代码 ${xhr.status}），已填写的内容仍在页面上，请稍后重试。`);
  });
  xhr.addEventListener('error', () => fail(
    `上传中断：网络连接出错，或上传的内容超过 ${formatMB(Number(form.dataset.maxRequest) || 0)} 的上限。`
    + '已填写的内容仍在页面上，请检查网络后重试。'));
  xhr.send(data);
}

/** Replace the page's main content with the server's answer (a refused form, the 413
 *  page...) as if the browser had posted the form itself. */
function showPage(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const fresh = doc.querySelector('main');
  const current = document.querySelector('main');
  if (!fresh || !current) { document.open(); document.write(html); document.close(); return; }
  document.title = doc.title;
  current.replaceWith(document.importNode(fresh, true));
  init(document.querySelector('main'));
  const summary = document.querySelector('#error-summary');
  window.scrollTo(0, 0);
  if (summary) summary.focus();
}

export function init(root = document) {
  root.querySelectorAll('form[data-upload-form]').forEach(setupForm);
  setupCharCounter(root);
}

init();
