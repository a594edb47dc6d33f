#!/usr/bin/env python3
"""Check Prometheus text exposition (format 0.0.4) read from stdin.

Every line must be a # HELP, a # TYPE or a sample; every sample's family must
have a TYPE line before it (once), names and labels must be valid, values must
parse, a (name, labels) pair appears once, histogram buckets are cumulative and
their +Inf bucket equals _count. Prints each problem with its line number and
exits 1 if there was any; prints "N families, N samples" otherwise.
"""
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(%s)(\{(?:%s(?:,%s)*)?,?\})? (\S+)( -?\d+)?$' % (NAME, LABEL, LABEL))
HELP = re.compile(r'^# HELP (%s) (.*)$' % NAME)
TYPE = re.compile(r'^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$' % NAME)
TYPES = {}
errors = []
seen = set()
helps = set()
buckets = {}  # (family, labels without le) -> [(le, value)]
counts = {}
samples = 0


def value(s):
    if s in ('+Inf', '-Inf', 'NaN'):
        return float(s.replace('Inf', 'inf').replace('NaN', 'nan'))
    return float(s)


def family_of(name):
    for suf in ('_bucket', '_sum', '_count'):
        if name.endswith(suf) and TYPES.get(name[:-len(suf)]) in ('histogram', 'summary'):
            return name[:-len(suf)]
    return name


text = sys.stdin.read()
if not text.endswith('\n'):
    errors.append('input does not end with a newline')
for n, line in enumerate(text.split('\n')[:-1], 1):
    if line.startswith('#'):
        m = HELP.match(line) or TYPE.match(line)
        if not m:
            if line.startswith('# HELP') or line.startswith('# TYPE'):
                errors.append('%d: bad HELP/TYPE line: %s' % (n, line))
            continue
        if line.startswith('# TYPE'):
            if m.group(1) in TYPES:
                errors.append('%d: second TYPE for %s' % (n, m.group(1)))
            TYPES[m.group(1)] = m.group(2)
        else:
            if m.group(1) in helps:
                errors.append('%d: second HELP for %s' % (n, m.group(1)))
            helps.add(m.group(1))
        continue
    if line == '':
        errors.append('%d: empty line' % n)
        continue
    m = SAMPLE.match(line)
    if not m:
        errors.append('%d: not a valid sample: %s' % (n, line))
        continue
    name, labels, val = m.group(1), m.group(2) or '', m.group(3)
    try:
        v = value(val)
    except ValueError:
        errors.append('%d: bad value %r' % (n, val))
        continue
    fam = family_of(name)
    if fam not in TYPES:
        errors.append('%d: %s has no TYPE line before it' % (n, name))
    if fam not in helps:
        errors.append('%d: %s has no HELP line before it' % (n, name))
    if (name, labels) in seen:
        errors.append('%d: duplicate sample %s%s' % (n, name, labels))
    seen.add((name, labels))
    if TYPES.get(fam) == 'counter' and not (name.endswith('_total') and v >= 0):
        errors.append('%d: counter %s must end in _total and be >= 0' % (n, name))
    if TYPES.get(fam) == 'histogram':
        rest = re.sub(r'(^\{|,)le="[^"]*"', r'\1', labels).replace('{,', '{')
        if name.endswith('_bucket'):
            le = re.search(r'le="([^"]*)"', labels)
            if not le:
                errors.append('%d: bucket without le' % n)
            else:
                buckets.setdefault((fam, rest), []).append((value(le.group(1)), v))
        elif name.endswith('_count'):
            counts[(fam, labels)] = v
    samples += 1
for (fam, rest), bs in buckets.items():
    if [b[0] for b in bs] != sorted(b[0] for b in bs) or bs[-1][0] != float('inf'):
        errors.append('%s: buckets not ordered or no +Inf bucket' % fam)
    if any(bs[i][1] > bs[i + 1][1] for i in range(len(bs) - 1)):
        errors.append('%s: buckets not cumulative' % fam)
    c = counts.get((fam, rest if rest != '{}' else ''))
    if c is None or c != bs[-1][1]:
        errors.append('%s: +Inf bucket %s != _count %s' % (fam, bs[-1][1], c))
for e in errors:
    print('promcheck: ' + e)
if errors:
    sys.exit(1)
print('%d families, %d samples' % (len(TYPES), samples))
