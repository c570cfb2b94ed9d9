#!/usr/bin/env python3
"""The documentation names exactly the options the daemon has.

usage: check-docs.py PRIVIDENT SOURCE_ROOT

The options come from the program itself: `privident --help` gives every
long option, its short form, whether it takes a value, its default and its
range; the option table (src/config_opts.h) gives each option's kind, and
config.c's cli_only() which kinds are command-line only (the rest are also
configuration keys). The daemon then confirms both: it accepts every key
of the example file, and refuses each command-line-only option in a file.

Checked against them, and failed with a list of what is missing or extra
where:
  doc/privident.8       SYNOPSIS and OPTIONS: every option, no other;
                        the short forms; defaults and ranges in the text
  doc/privident.conf.5  KEYS: every key, no other; defaults and ranges
  packaging/etc/privident.conf  (the example, installed as
                        SYSCONFDIR/privident/privident.conf): every key
                        once, commented out at its default, each with a
                        comment; accepted by the daemon as it is and with
                        every key uncommented
  README.md             the option table of "Running it for real"
"""
import os
import re
import subprocess
import sys
import tempfile

# A user name no system has: the daemon parses and checks its whole
# configuration before it looks the user up, so its refusal of this name
# (exit status 2, "user '...'") shows the configuration was accepted.
NO_SUCH_USER = 'privident-docs-no-such-user'
# Exit status of a bad option, configuration or user (privident(8)).
EXIT_USAGE = 2
# Seconds the daemon may take to refuse; it never gets as far as starting.
DAEMON_TIMEOUT = 20
BOOL_DEFAULT = 'no'


class Problems:
    def __init__(self):
        self.lines = []

    def add(self, where, what):
        self.lines.append(f'{where}: {what}')

    def compare(self, where, found, wanted, what, show):
        """Names in wanted missing from found, and in found not in wanted."""
        for name in sorted(set(wanted) - set(found)):
            self.add(where, f'missing {show(name)} ({what} of privident)')
        for name in sorted(set(found) - set(wanted)):
            self.add(where, f'names {show(name)}, which privident does not have')


def long_opt(name):
    return '--' + name


def key(name):
    return name


def show_short(letter):
    return '-' + letter if letter else 'none'


def short_of(text):
    """The letter of a leading "-x, " (as --help writes it), or None."""
    m = re.match(r'-(\w),', text)
    return m[1] if m else None


def compare_options(p, where, found, opts):
    """found: {long name: (short letter or None, text)}. Reports options
    missing or extra and short forms that differ; returns the names both
    have."""
    p.compare(where, found, opts, 'an option', long_opt)
    both = sorted(set(found) & set(opts))
    for name in both:
        if found[name][0] != opts[name]['short']:
            p.add(where, f'--{name}: short form {show_short(found[name][0])}, '
                  f'privident has {show_short(opts[name]["short"])}')
    return both


# --- the program ------------------------------------------------------------

HELP_LINE = re.compile(r'^  (?:-(\w), |    )--([a-z0-9-]+)(?: (\S+))?$')


def program_options(privident):
    """{name: {'short', 'arg', 'help'}} from privident --help."""
    out = subprocess.run([privident, '--help'], capture_output=True, text=True,
                         timeout=DAEMON_TIMEOUT, check=True).stdout
    opts, cur = {}, None
    for line in out.splitlines():
        m = HELP_LINE.match(line)
        if m:
            cur = opts[m[2]] = {'short': m[1], 'arg': m[3], 'help': ''}
        elif cur is not None and line.startswith('        '):
            cur['help'] += ' ' + line.strip()
    for o in opts.values():
        m = re.search(r'\bdefault ([^\s,;)]+)', o['help'])
        o['default'] = m[1] if m else None
        m = re.search(r'\((\d+)-(\d+)\b', o['help'])
        o['range'] = f'{m[1]} to {m[2]}' if m else None
    return opts


def option_table(root):
    """{name: (short, kind)} from OPTIONS in src/config_opts.h, and the
    kinds config.c's cli_only() names."""
    with open(os.path.join(root, 'src/config_opts.h')) as f:
        rows = re.findall(r'X\("([a-z0-9-]+)",\s*"(?:-(\w), |\s*)",\s*(K_[A-Z]+)',
                          f.read())
    with open(os.path.join(root, 'src/config.c')) as f:
        m = re.search(r'static bool cli_only\([^)]*\)\s*\{(.*?)\n\}', f.read(), re.S)
    kinds = set(re.findall(r'K_[A-Z]+', m[1])) if m else set()
    return {n: (s or None, k) for n, s, k in rows}, kinds


def run_daemon(privident, conf):
    """privident -c conf --user NO_SUCH_USER: (accepted?, message)."""
    r = subprocess.run([privident, '-c', conf, '--user', NO_SUCH_USER],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=DAEMON_TIMEOUT)
    msg = r.stderr.strip()
    return r.returncode == EXIT_USAGE and f"user '{NO_SUCH_USER}'" in msg, \
        f'exit status {r.returncode}: {msg}'


# --- troff ------------------------------------------------------------------

ESCAPES = [(r'\-', '-'), (r'\(en', '-'), (r'\(em', '--'), (r'\(lq', '"'),
           (r'\(rq', '"'), (r'\(aq', "'"), (r'\&', ''), (r'\|', ''),
           (r'\^', ''), (r'\~', ' '), (r'\ ', ' '), (r'\e', '\\')]
FONT_SPACED = {'B', 'I', 'SM', 'SB'}
FONT_ALTERNATING = {'BR', 'BI', 'IB', 'IR', 'RB', 'RI'}


def unescape(s):
    s = re.sub(r'\\f(?:\(..|\[[^]]*\]|.)', '', s)
    for esc, plain in ESCAPES:
        s = s.replace(esc, plain)
    return s


def troff_line(line):
    """The text a troff line prints, roughly: enough to find words in."""
    if not line.startswith(('.', "'")):
        return unescape(line)
    m = re.match(r"[.'](\S+)\s*(.*)", line)
    if not m:
        return ''
    args = [a[0] or a[1] for a in re.findall(r'"([^"]*)"|(\S+)', m[2])]
    if m[1] in FONT_SPACED or m[1] == 'OP':
        return unescape(' '.join(args))
    if m[1] in FONT_ALTERNATING:
        return unescape(''.join(args))
    return ''


def sections(path):
    """{section name: [lines]} of a man page."""
    out, cur = {}, None
    with open(path) as f:
        for line in f.read().splitlines():
            if line.startswith('.SH'):
                cur = out.setdefault(line[3:].strip().strip('"'), [])
            elif cur is not None:
                cur.append(line)
    return out


def entries(lines):
    """[(tag text, body text)] of the .TP paragraphs."""
    out = []
    for i, line in enumerate(lines):
        if line == '.TP' and i + 1 < len(lines):
            body = []
            for nxt in lines[i + 2:]:
                if nxt == '.TP':
                    break
                body.append(troff_line(nxt))
            out.append((troff_line(lines[i + 1]), ' '.join(' '.join(body).split())))
    return out


def has_word(text, word):
    return re.search(r'(?<![\w/.-])' + re.escape(word) + r'(?![\w/-])', text) is not None


def check_values(p, where, name, body, opt, is_bool):
    """The default and range privident --help gives are in body."""
    if is_bool:
        return
    if opt['default'] and not has_word(body, opt['default']):
        p.add(where, f'{name}: the default {opt["default"]} is not named')
    if opt['range'] and opt['range'] not in body:
        p.add(where, f'{name}: the range {opt["range"]} is not named')


# --- the documents ------------------------------------------------------------

def check_man8(p, root, opts, bools):
    path = os.path.join(root, 'doc/privident.8')
    secs = sections(path)
    where = 'doc/privident.8 OPTIONS'
    found = {}
    for tag, body in entries(secs.get('OPTIONS', [])):
        for name in re.findall(r'--([a-z0-9]+(?:-[a-z0-9]+)*)', tag):
            found[name] = (short_of(tag), body)
    for name in compare_options(p, where, found, opts):
        check_values(p, where, f'--{name}', found[name][1], opts[name],
                     name in bools)

    # .OP names an option and then its argument; .B an option alone.
    named = set()
    for line in secs.get('SYNOPSIS', []):
        m = re.match(r'\.(?:OP|B)\s+(\S+)', line)
        if m and unescape(m[1]).startswith('-'):
            named.add(unescape(m[1]))
    wanted = {('-' + o['short']) if o['short'] else long_opt(n)
              for n, o in opts.items()}
    spellings = wanted | {long_opt(n) for n in opts} | \
        {'-' + o['short'] for o in opts.values() if o['short']}
    for w in sorted(wanted - named):
        p.add('doc/privident.8 SYNOPSIS', f'missing {w} (an option of privident)')
    for w in sorted(named - spellings):
        p.add('doc/privident.8 SYNOPSIS', f'names {w}, which privident does not have')


def check_man5(p, root, opts, keys, bools):
    where = 'doc/privident.conf.5 KEYS'
    found = {}
    for tag, body in entries(sections(os.path.join(root, 'doc/privident.conf.5'))
                             .get('KEYS', [])):
        found[tag.split()[0] if tag.split() else tag] = body
    p.compare(where, found, keys, 'a configuration key', key)
    for name in sorted(set(found) & set(keys)):
        if name in bools and not re.search(r'\bDefault ' + BOOL_DEFAULT + r'\b',
                                           found[name]):
            p.add(where, f'{name}: does not say "Default {BOOL_DEFAULT}"')
        check_values(p, where, name, found[name], opts[name], name in bools)


SETTING = re.compile(r'^#([a-z][a-z0-9-]*) = (.*)$')


def example_settings(path):
    """{key: (value, comment above it)}, and problems of form."""
    settings, form, comment = {}, [], []
    with open(path) as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines, 1):
        m = SETTING.match(line)
        if m:
            if m[1] in settings:
                form.append(f'line {n}: {m[1]} a second time')
            settings[m[1]] = (m[2], ' '.join(comment))
            if not comment:
                form.append(f'line {n}: {m[1]} has no comment above it')
            comment = []
        elif line.startswith('# '):
            comment.append(line[2:])
        elif line.strip() in ('', '#'):
            comment = []
        else:
            form.append(f'line {n}: not a comment or a commented-out key: {line!r}')
    return settings, form, lines


def check_example(p, root, privident, opts, keys, bools):
    rel = 'packaging/etc/privident.conf'
    path = os.path.join(root, rel)
    settings, form, lines = example_settings(path)
    for f in form:
        p.add(rel, f)
    p.compare(rel, settings, keys, 'a configuration key', key)
    for name in sorted(set(settings) & set(keys)):
        value, comment = settings[name]
        want = BOOL_DEFAULT if name in bools else opts[name]['default']
        if want is not None and value != want:
            p.add(rel, f'{name} = {value}, but the default is {want}')
        if opts[name]['range'] and opts[name]['range'] not in comment:
            p.add(rel, f'{name}: its comment does not give the range '
                  f'{opts[name]["range"]}')

    ok, msg = run_daemon(privident, path)
    if not ok:
        p.add(rel, f'refused by the daemon as it is ({msg})')
    with tempfile.TemporaryDirectory() as tmp:
        uncommented = os.path.join(tmp, 'uncommented.conf')
        with open(uncommented, 'w') as f:
            f.write('\n'.join(line[1:] if SETTING.match(line) else line
                              for line in lines) + '\n')
        ok, msg = run_daemon(privident, uncommented)
        if not ok:
            p.add(rel, f'refused by the daemon with every key uncommented ({msg})')


def check_readme(p, root, opts, bools):
    where = 'README.md "Running it for real"'
    with open(os.path.join(root, 'README.md')) as f:
        text = f.read()
    m = re.search(r'^## Running it for real\n(.*?)(?=^## |\Z)', text, re.S | re.M)
    found = {}
    for row in re.findall(r'^\| `([^`]*)` \|([^|]*)\|', m[1] if m else '', re.M):
        name = re.search(r'--([a-z0-9-]+)', row[0])
        if name:
            found[name[1]] = (short_of(row[0]), row[1])
    if not m:
        p.add(where, 'no such section')
    for name in compare_options(p, where, found, opts):
        default = found[name][1]
        want = 'off' if name in bools else opts[name]['default']
        if want is not None and not has_word(default, want):
            p.add(where, f'--{name}: default column says {default.strip()!r}, '
                  f'privident {want}')


def check_program(p, privident, opts, table, cli_kinds):
    """The help and the table agree, and the daemon refuses each
    command-line-only option in a file (so the key list is the daemon's)."""
    p.compare('src/config_opts.h OPTIONS', table, opts, 'an option in --help',
              long_opt)
    if not cli_kinds:
        p.add('src/config.c', 'cli_only() not found: cannot tell keys from '
              'command-line-only options')
    for name in sorted(set(table) & set(opts)):
        if table[name][0] != opts[name]['short']:
            p.add('src/config_opts.h OPTIONS', f'--{name}: the table and --help '
                  'disagree on the short form')
        if table[name][1] not in cli_kinds:
            continue
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as f:
            f.write(f'{name} = x\n')
            f.flush()
            r = subprocess.run([privident, '-c', f.name], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True,
                               timeout=DAEMON_TIMEOUT)
        if r.returncode != EXIT_USAGE or 'only on the command line' not in r.stderr:
            p.add('privident', f'{name}: the table says command line only, but '
                  f'the daemon answers the key with exit status {r.returncode}: '
                  f'{r.stderr.strip()}')


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    privident, root = argv[1], argv[2]
    opts = program_options(privident)
    table, cli_kinds = option_table(root)
    if not opts or not table:
        print(f'check-docs: found no options (--help: {len(opts)}, table: '
              f'{len(table)}); the parsing here is out of date', file=sys.stderr)
        return 1
    keys = {n for n, (_, kind) in table.items() if kind not in cli_kinds}
    bools = {n for n, (_, kind) in table.items() if kind == 'K_BOOL'}

    p = Problems()
    check_program(p, privident, opts, table, cli_kinds)
    check_man8(p, root, opts, bools)
    check_man5(p, root, opts, keys, bools)
    check_example(p, root, privident, opts, keys, bools)
    check_readme(p, root, opts, bools)

    print(f'privident has {len(opts)} options, {len(keys)} of them configuration '
          f'keys: {", ".join(sorted(keys))}; command line only: '
          f'{", ".join(sorted(set(opts) - keys))}')
    if p.lines:
        print(f'check-docs: {len(p.lines)} problem(s):')
        for line in p.lines:
            print('  ' + line)
        return 1
    print('check-docs: the man pages, the example configuration and README '
          'name every option and key, and no other')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
