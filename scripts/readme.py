#!/usr/bin/env python3
"""Assembles README.md from docs/readme-head.md, the manual's chapters in docs/parts/, and
docs/readme-tail.md, demoting each chapter's headings one level (outside code fences)."""
import pathlib, re
root = pathlib.Path(__file__).resolve().parent.parent
ORDER = ['deploy-verify', 'ssh', 'serial', 'boards', 'agent-install', 'diagnose', 'toolchain',
         'reports', 'metrics', 'parsers', 'tensor', 'protocol', 'agent-core', 'simulator']

def demote(text):
    out, fence = [], False
    for line in text.splitlines():
        if line.startswith('```'):
            fence = not fence
        if not fence and re.match(r'#{1,5} ', line):
            line = '#' + line
        out.append(line)
    return '\n'.join(out).strip() + '\n'

parts = [(root / 'docs/readme-head.md').read_text().strip() + '\n']
for name in ORDER:
    parts.append(demote((root / 'docs/parts' / f'{name}.md').read_text()))
parts.append(demote((root / 'docs/readme-tail.md').read_text()))
(root / 'README.md').write_text('\n'.join(parts))
