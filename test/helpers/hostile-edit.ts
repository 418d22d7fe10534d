/**
 * The attacker's editor for the hostile-workspace corpus (hostile.ts): run by node inside claude-cli, which
 * has no YAML library, so it is a line editor for block style (what cctl writes). `edits` is defined before
 * it. Exit 3: the filesystem refused a write (a read-only bind: the defence); exit 4: the edit does not fit
 * the file any more (the case needs adapting, never a pass).
 */
export const EDIT_SCRIPT = String.raw`
const fs = require('fs'), path = require('path');
const at = (p) => path.resolve('/workspace', p);
class Misfit extends Error {}
const NL = String.fromCharCode(10);
const indentOf = (l) => l.length - l.trimStart().length;
const blank = (l) => l.trim() === '' || l.trim().startsWith('#');
const escape = (k) => k.replace(/[.*+?^$()|[\]\\{}<]/g, (c) => '\\' + c);
const keyRe = (k, d) => new RegExp('^' + ' '.repeat(2 * d) + '["\x27]?' + escape(k) + '["\x27]?\\s*:(\\s|$)');
/** [line of the key, end of its block) within [from, to), or undefined. */
function find(lines, key, d, from, to) {
  for (let i = from; i < to; i++) {
    if (!keyRe(key, d).test(lines[i])) continue;
    let end = i + 1;
    while (end < to && (blank(lines[end]) || indentOf(lines[end]) > 2 * d)) end++;
    while (end > i + 1 && blank(lines[end - 1])) end--;
    return [i, end];
  }
  return undefined;
}
function render(key, value, d) {
  const [first, ...rest] = value.split(NL);
  return [' '.repeat(2 * d) + key + ':' + (first === '' ? '' : ' ' + first), ...rest.map((l) => ' '.repeat(2 * (d + 1)) + l)];
}
function setKey(file, keys, value, remove) {
  const lines = fs.readFileSync(file, 'utf8').replace(/\n$/, '').split(NL);
  let from = 0, to = lines.length;
  for (let d = 0; d < keys.length; d++) {
    const last = d === keys.length - 1;
    const hit = find(lines, keys[d], d, from, to);
    if (hit && last) {
      lines.splice(hit[0], hit[1] - hit[0], ...(remove ? [] : render(keys[d], value, d)));
    } else if (hit) {
      if (lines[hit[0]].split(':').slice(1).join(':').trim() !== '') throw new Misfit(keys[d] + ' is not a block in ' + file);
      [from, to] = [hit[0] + 1, hit[1]];
    } else if (remove) {
      throw new Misfit('no ' + keys.join('.') + ' in ' + file);
    } else {
      // A new key goes first in its block (a top-level one at the end of the file).
      const rows = last ? render(keys[d], value, d) : [' '.repeat(2 * d) + keys[d] + ':'];
      const where = d === 0 ? lines.length : from;
      lines.splice(where, 0, ...rows);
      [from, to] = [where + 1, where + 1];
    }
  }
  fs.writeFileSync(file, lines.join(NL) + NL);
}
for (const e of edits) {
  try {
    if ('set' in e) setKey(at(e.set), e.path, e.value, false);
    else if ('unset' in e) setKey(at(e.unset), e.path, '', true);
    else if ('write' in e) {
      fs.mkdirSync(path.dirname(at(e.write)), { recursive: true });
      fs.writeFileSync(at(e.write), e.text);
      if (e.mode) fs.chmodSync(at(e.write), e.mode);
    } else if ('append' in e) fs.appendFileSync(at(e.append), e.text);
    else if ('prepend' in e) fs.writeFileSync(at(e.prepend), e.text + fs.readFileSync(at(e.prepend), 'utf8'));
    else if ('symlink' in e) {
      fs.rmSync(at(e.symlink), { recursive: true, force: true });
      fs.symlinkSync(e.target, at(e.symlink));
    } else if ('copy' in e) {
      fs.mkdirSync(path.dirname(at(e.to)), { recursive: true });
      fs.copyFileSync(at(e.copy), at(e.to));
    } else if ('remove' in e) fs.rmSync(at(e.remove), { recursive: true, force: true });
    else if ('git' in e) require('child_process').execFileSync('git', e.git, { cwd: '/workspace', stdio: 'pipe' });
    else throw new Misfit('unknown edit');
  } catch (err) {
    const refused = ['EACCES', 'EROFS', 'EPERM', 'EBUSY'].includes(err.code);
    console.error((refused ? 'edit refused inside claude-cli: ' : 'edit does not fit: ') + JSON.stringify(e).slice(0, 160) + ': ' + err.message);
    process.exit(refused ? 3 : 4);
  }
}
console.log('edits written');
`;
