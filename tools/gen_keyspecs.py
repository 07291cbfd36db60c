# Usage: python3 tools/gen_keyspecs.py /tmp/redis-src > src/commands/keyspecs_table.rs
# Emits the COMMAND_META table of src/commands/keyspecs.rs from Redis's
# src/commands/*.json (facts about the API: key specs and ACL categories).
import json, glob, os, sys
src = sys.argv[1]
rows = []
FLAG = {"RO":"RO","RW":"RW","OW":"OW","RM":"RM"}
for f in sorted(glob.glob(os.path.join(src, 'src/commands/*.json'))):
    d = json.load(open(f))
    for name, c in d.items():
        if c.get('group') == 'sentinel' or 'SENTINEL' in c.get('command_flags', []) and c.get('group') == 'sentinel':
            continue
        full = name.lower()
        if 'container' in c:
            full = c['container'].lower() + '|' + full
        specs = []
        for ks in c.get('key_specs', []):
            fl = [FLAG.get(x, x.lower()) for x in ks['flags']]
            b = ks['begin_search']
            if 'index' in b:
                begin = f"Index({b['index']['pos']})"
            elif 'keyword' in b:
                k = b['keyword']
                begin = f"Keyword(\"{k['keyword']}\", {k['startfrom']})"
            else:
                begin = "BeginUnknown"
            fk = ks['find_keys']
            if 'range' in fk:
                r = fk['range']
                find = f"Range({r['lastkey']}, {r['step']}, {r['limit']})"
            elif 'keynum' in fk:
                r = fk['keynum']
                find = f"Keynum({r['keynumidx']}, {r['firstkey']}, {r['step']})"
            else:
                find = "FindUnknown"
            flags = ', '.join(f'"{x}"' for x in fl)
            specs.append(f"ks(&[{flags}], {begin}, {find})")
        acl = ', '.join(f'"{x.lower()}"' for x in c.get('acl_categories', []))
        getkeys = 'true' if 'get_keys_function' in c else 'false'
        nomand = 'true' if 'NO_MANDATORY_KEYS' in c.get('command_flags', []) else 'false'
        tips = ', '.join('"%s"' % t.lower() for t in c.get('command_tips', []))
        rows.append((full, acl, specs, getkeys, nomand, tips))
rows.sort()
print("// Generated from Redis 7.0.15 src/commands/*.json (key specs and ACL categories")
print("// are facts of the command API, like arity): one row per command, sorted.")
print("#[rustfmt::skip]")
print("pub(crate) static COMMAND_META: &[CommandMeta] = &[")
for full, acl, specs, getkeys, nomand, tips in rows:
    flags = []
    if getkeys == 'true': flags.append('GETKEYS')
    if nomand == 'true': flags.append('NO_MANDATORY')
    fl = ' | '.join(flags) if flags else '0'
    print(f'    m("{full}", &[{acl}], &[{", ".join(specs)}], {fl}, &[{tips}]),')
print("];")
