"""Varied English sentences from a small built-in grammar (no internet, no text corpus).

Why: TTS speech needs many different sentences with natural word and phoneme variety;
a few templates over a few hundred words give statements, questions, numbers and lists,
all reproducible from a numpy Generator.
"""
from __future__ import annotations

import numpy as np

_NAMES = ("Anna Ben Carla David Elena Frank Grace Henry Irene Jack Karen Leo Maria Nora Oscar "
          "Paula Quentin Rosa Samuel Tina Victor Wendy Yusuf Zoe Martin Olga Peter Sofia").split()
_ADJ = ("old new small large quiet noisy bright dark warm cold heavy light narrow wide strange "
        "simple careful busy empty crowded green yellow purple silver wooden broken clean "
        "famous gentle rapid lazy curious friendly distant hidden little ancient modern").split()
_NOUN = ("house garden river bridge market station window letter bottle table chair doctor "
         "teacher farmer painter engineer student kitchen forest mountain village city road "
         "engine radio camera ticket basket blanket pencil notebook island harbour castle "
         "tower meadow valley storm winter summer morning evening dinner picture machine "
         "museum library bakery orchard hospital airport bicycle carpet mirror lantern").split()
_PLACE = ("in the kitchen|near the old bridge|behind the station|at the end of the road|"
          "under the wooden table|across the river|inside the museum|on the top floor|"
          "beside the harbour|in the middle of the forest|at the corner shop|by the window|"
          "outside the library|along the narrow street|in the back garden").split("|")
_TIME = ("this morning|yesterday evening|last winter|every Sunday|before dinner|after lunch|"
         "at midnight|next Tuesday|in the spring|once a year|right now|two days ago|"
         "early tomorrow|during the storm|later tonight").split("|")
_VERB_T = tuple(tuple(p.split("/")) for p in (
    "found/find opened/open painted/paint carried/carry repaired/repair bought/buy "
    "borrowed/borrow cleaned/clean described/describe watched/watch followed/follow "
    "measured/measure delivered/deliver ordered/order forgot/forget noticed/notice "
    "packed/pack moved/move sold/sell checked/check").split())
_VERB_I = ("arrived|laughed|waited|slept|shouted|left|returned|danced|worked|travelled|"
           "listened|smiled|whispered|hurried|stayed").split("|")
_ADV = ("slowly quickly quietly carefully suddenly happily badly easily loudly gently "
        "probably finally almost rarely politely").split()
_Q = ("why|when|where|how often|how long").split("|")
_NUM = ("two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
        "forty fifty a hundred").split()
_CONJ = ("because|although|while|so|but|and then|until|as soon as").split("|")
_OPEN = ("I think that|She said that|Apparently|To be honest|In fact|Of course|"
         "Everyone knows that|It seems that|Believe it or not|As usual").split("|")


def _np(rng: np.random.Generator) -> str:
    r = rng.random()
    noun = _pick(rng, _NOUN)
    if r < 0.35:
        return f"the {_pick(rng, _ADJ)} {noun}"
    if r < 0.6:
        return f"the {noun}"
    if r < 0.8:
        return f"{_pick(rng, _NUM)} {_pick(rng, _ADJ)} {noun}s"
    return f"a {_pick(rng, _ADJ)} {noun}"


def _subject(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.4:
        return _pick(rng, _NAMES)
    if r < 0.6:
        return _pick(rng, ("we", "they", "he", "she", "I", "my brother", "our neighbour"))
    return _np(rng)


def _clause(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.5:
        s = f"{_subject(rng)} {_pick(rng, _VERB_T)[0]} {_np(rng)}"
    else:
        s = f"{_subject(rng)} {_pick(rng, _VERB_I)} {_pick(rng, _ADV)}"
    if rng.random() < 0.5:
        s += f" {_pick(rng, _PLACE)}"
    if rng.random() < 0.4:
        s += f" {_pick(rng, _TIME)}"
    return s


def sentence(rng: np.random.Generator) -> str:
    """One random sentence (statement, question or list), 4 to about 25 words.

    Args:
        rng (numpy.random.Generator): Random generator.

    Returns:
        str: The sentence, capitalised and punctuated.
    """
    r = rng.random()
    if r < 0.15:
        q = _pick(rng, _Q)
        return (f"{q.capitalize()} did {_subject(rng)} {_pick(rng, _VERB_T)[1]} "
                f"{_np(rng)} {_pick(rng, _PLACE)}?")
    if r < 0.25:
        return (f"Please bring {_np(rng)}, {_np(rng)} and {_np(rng)} "
                f"{_pick(rng, _TIME)}.")
    s = _clause(rng)
    if rng.random() < 0.45:
        s += f" {_pick(rng, _CONJ)} {_clause(rng)}"
    if rng.random() < 0.2:
        s = f"{_pick(rng, _OPEN)} {s[0].lower()}{s[1:]}" if not s.startswith("I ") else \
            f"{_pick(rng, _OPEN)} {s}"
    return s[0].upper() + s[1:] + ("!" if rng.random() < 0.05 else ".")


def paragraph(rng: np.random.Generator, n_words: int) -> str:
    """Random sentences until at least `n_words` words.

    Args:
        rng (numpy.random.Generator): Random generator.
        n_words (int): Number of words to reach.

    Returns:
        str: The sentences joined by spaces.
    """
    out: list[str] = []
    count = 0
    while count < n_words:
        s = sentence(rng)
        out.append(s)
        count += len(s.split())
    return " ".join(out)


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]
