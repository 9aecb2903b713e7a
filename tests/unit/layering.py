#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# layering.py LAYER FILE... [-- LAYER FILE...]...: the layers from the bottom
# up, each with its .c files (as the meson.build files list them). A file
# may include the headers of its own layer and of the layers below it, never
# of one above. A header belongs to the layer of the .c file of its name; a
# header without one belongs to the layer of the files in its directory.
# A layer named "client" sits on "common" alone. Prints TAP.
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def parse_layers(argv):
    layers, current = [], None
    for arg in argv:
        if arg == '--':
            current = None
        elif current is None:
            current = (arg, [])
            layers.append(current)
        else:
            current[1].append(os.path.realpath(arg))
    return layers


def header_layers(layers):
    """Maps a header's base name to its layer, and a directory to the
    lowest layer with files in it."""
    by_name, by_dir = {}, {}
    for index, (_, files) in enumerate(layers):
        for f in files:
            by_name[os.path.basename(f)[:-2] + '.h'] = index
            by_dir.setdefault(os.path.dirname(f), index)
    return by_name, by_dir


def allowed(layers, user, target):
    name = layers[user][0]
    if name == 'client':
        return layers[target][0] in ('common', 'client')
    return target <= user and layers[target][0] != 'client'


def main():
    layers = parse_layers(sys.argv[1:])
    by_name, by_dir = header_layers(layers)
    n = failed = 0
    for index, (name, files) in enumerate(layers):
        wrong = []
        for c in files:
            for source in (c, c[:-2] + '.h'):
                if not os.path.exists(source):
                    continue
                for header in INCLUDE.findall(open(source).read()):
                    here = os.path.join(os.path.dirname(source), header)
                    target = by_name.get(header)
                    if target is None and os.path.exists(here):
                        target = by_dir.get(os.path.dirname(os.path.realpath(here)))
                    if target is None:
                        continue  # generated (config.h) or a system header
                    if not allowed(layers, index, target):
                        wrong.append(f'{os.path.basename(source)} includes {header} ({layers[target][0]})')
        n += 1
        if wrong:
            failed = 1
            print(f'not ok {n} - the {name} layer uses only what is below it')
            for w in wrong:
                print(f'# {w}')
        else:
            print(f'ok {n} - the {name} layer uses only what is below it ({len(files)} files)')
    print(f'1..{n}')
    return failed


sys.exit(main())
