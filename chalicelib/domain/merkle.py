"""A Merkle tree over a day's chain heads, and inclusion proofs against its root (RFC 9162, section 2.1).

A leaf is ``SHA-256(0x00 || data)``, an inner node ``SHA-256(0x01 || left || right)``: the prefixes keep a
leaf from passing for a node. The tree is built level by level, pairing nodes left to right; an odd last
node moves up unpaired, which gives RFC 9162's tree for any number of leaves. A proof is the list of
siblings from the leaf up; whoever holds one leaf, its index, the tree's size and its path can recompute
the root, and learns of the other leaves only hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree over ``leaves`` (leaf hashes), the leaves first, the root last."""
    tree = [list(leaves)]
    while len(tree[-1]) > 1:
        below = tree[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])  # unpaired: moves up as it is
        tree.append(above)
    return tree


def root(tree: list[list[bytes]]) -> bytes:
    """The root of a tree ``levels`` built; an empty tree's is the hash of nothing (RFC 9162)."""
    return tree[-1][0] if tree[-1] else hashlib.sha256(b"").digest()


def path(tree: list[list[bytes]], index: int) -> list[bytes]:
    """The inclusion proof of leaf ``index``: its siblings from the bottom up (none where it moved up unpaired)."""
    siblings = []
    for level in tree[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            siblings.append(level[sibling])
        index //= 2
    return siblings


def root_from_path(leaf: bytes, index: int, size: int, siblings: Sequence[bytes]) -> bytes | None:
    """The root a proof leads to (RFC 9162, 2.1.3.2), or None when the path cannot belong to such a tree."""
    if not 0 <= index < size:
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in siblings:
        if sn == 0:
            return None  # a longer path than the tree is high
        if fn % 2 == 1 or fn == sn:
            node = node_hash(sibling, node)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return node if sn == 0 else None
