"""Corpus readers: annotated documents (units + relations) and labelled pairs for training and evaluation.

Each reader turns one public corpus, in its own format, into argmine's shapes: a gold ``Graph``
(a text with its posts, gold units and support/attack relations: the type ``analyze`` returns) and
``Pair`` (text_a -> text_b with support/attack/none). ``CORPORA`` is the one registry of them: each
corpus declares its reader, its kind and its held-out splits. Formats are described in ``../shared/data/README.md``.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from defusedxml import ElementTree

from argmine import jsonio
from argmine.document import Document, Post, PostText, Relation, Unit, join_posts, trim_span
from argmine.errors import ConfigError, InputError
from argmine.files import read_text
from argmine.graph import GOLD_MODEL, Graph, load_graphs

csv.field_size_limit(10_000_000)


def gold_graph(
    doc_id: str,
    text: str,
    spans: list[tuple[int, int]] | list[tuple[int, int, str]],
    relations: list[tuple[int, int, str]],
    posts: list[Post] | None = None,
    group: str = "",
) -> Graph:
    """An annotated document as a gold graph: units ``u1..un`` from ``(start, end[, post])`` spans,
    relations ``(source index, target index, label)``; one article post when no posts are given.
    ``group`` (a QT30 episode) is what held-out splits keep together."""
    posts = posts or [Post("article", "article", 0, len(text))]
    units = [
        Unit(f"u{i + 1}", span[2] if len(span) > 2 else posts[0].id, span[0], span[1], text[span[0] : span[1]])
        for i, span in enumerate(spans)
    ]
    document = Document(doc_id, text, posts).with_units(units)
    rels = [Relation(units[s].id, units[t].id, label, 1.0) for s, t, label in relations]
    return Graph.gold(document, rels, {**GOLD_MODEL, "group": group} if group else None)


def group_of(graph: Graph) -> str:
    return graph.model.get("group", "")


def gold_links(graph: Graph) -> dict[tuple[int, int], str]:
    """Gold relations as (source index, target index) -> label (a repeated pair keeps its last label)."""
    index = {u.id: i for i, u in enumerate(graph.units)}
    return {(index[r.source], index[r.target]): r.label for r in graph.relations}


@dataclass(frozen=True)
class Pair:
    text_a: str
    text_b: str
    label: str  # support | attack | none
    corpus: str
    group: str = ""
    context: str = "post"  # "post": both texts in one post; "reply": text_a answers text_b's post


# ---------------------------------------------------------------- annotated documents


def read_microtexts(folder: str | Path) -> list[Graph]:
    """Argumentative microtexts (arggraph XML): sup/exa = support; reb/und = attack; add joins a linked premise.

    An undercut attacks an inference edge; argmine attaches it to that edge's source unit.
    """
    docs = []
    for xml_path in sorted(Path(folder).glob("*.xml")):
        root = ElementTree.parse(xml_path).getroot()
        edus = {e.get("id"): (e.text or "").strip() for e in root.findall("edu")}
        text_path = xml_path.with_suffix(".txt")
        text = text_path.read_text(encoding="utf-8") if text_path.exists() else " ".join(edus.values())
        spans, cursor = {}, 0
        for eid, etext in edus.items():
            at = text.find(etext, cursor)
            if at < 0:
                raise InputError(f"{xml_path.name}: segment {eid} not found in the text")
            spans[eid] = (at, at + len(etext))
            cursor = at + len(etext)
        edges = {e.get("id"): (e.get("src"), e.get("trg"), e.get("type")) for e in root.findall("edge")}
        adu_spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for src, trg, kind in edges.values():
            if kind == "seg":
                adu_spans[trg].append(spans[src])
        adus = sorted(adu_spans, key=lambda a: min(adu_spans[a]))
        index = {a: i for i, a in enumerate(adus)}
        units = [(min(s for s, _ in adu_spans[a]), max(e for _, e in adu_spans[a])) for a in adus]

        def resolve(edge_id: str, edges: dict = edges) -> tuple[str, str]:
            """(target adu, label) of an edge, following undercuts and linked premises."""
            _, trg, kind = edges[edge_id]
            if kind == "add":
                return resolve(trg)
            label = "support" if kind in ("sup", "exa") else "attack"
            if trg in edges:  # undercut: attacks the inference, attach to its source unit
                return edges[trg][0], "attack"
            return trg, label

        relations = []
        for eid, (src, _, kind) in edges.items():
            if kind == "seg":
                continue
            target, label = resolve(eid)
            relations.append((index[src], index[target], label))
        docs.append(gold_graph(root.get("id") or xml_path.stem, text, units, relations))
    return docs


def read_cdcp(folder: str | Path) -> list[Graph]:
    """CDCP user comments: propositions as spans; reasons and evidences ``[[i, j], k]`` support k."""
    docs = []
    for ann_path in sorted(Path(folder).glob("*.ann.json")):
        stem = ann_path.name[: -len(".ann.json")]
        text = ann_path.with_name(f"{stem}.txt").read_text(encoding="utf-8")
        ann = jsonio.parse(ann_path.read_text(encoding="utf-8"), str(ann_path))
        units = [trim_span(text, start, end) for start, end in ann["prop_offsets"]]
        relations = [
            (src, target, "support")
            for key in ("reasons", "evidences")
            for (lo, hi), target in ann.get(key) or []
            for src in range(lo, hi + 1)
        ]
        docs.append(gold_graph(f"cdcp-{stem}", text, units, relations))
    return docs


_XMI = "{http://www.omg.org/XMI}id"
_WD_TYPES = ("Claim", "Premise", "Backing", "Rebuttal", "Refutation")


def read_web_discourse(folder: str | Path) -> list[Graph]:
    """Habernal & Gurevych web discourse (UIMA XMI): Premise/Backing support, Rebuttal attacks, Refutation attacks the rebuttal."""
    docs = []
    ns = "{http:///de/tudarmstadt/ukp/dkpro/argumentation/types.ecore}"
    for path in sorted(Path(folder).glob("*.xmi")):
        root = ElementTree.parse(path).getroot()
        sofa = root.find("{http:///uima/cas.ecore}Sofa")
        text = sofa.get("sofaString") if sofa is not None else ""
        components = {}
        for kind in _WD_TYPES:
            for el in root.findall(ns + kind):
                components[el.get(_XMI)] = (int(el.get("begin")), int(el.get("end")), kind)
        ids = sorted(components, key=lambda k: components[k][:2])
        index = {k: i for i, k in enumerate(ids)}
        units = [trim_span(text, components[k][0], components[k][1]) for k in ids]
        relations = []
        for el in root.findall(ns + "ArgumentRelation"):
            src, trg = el.get("source"), el.get("target")
            if src in index and trg in index:
                kind = components[src][2]
                label = "attack" if kind in ("Rebuttal", "Refutation") else "support"
                relations.append((index[src], index[trg], label))
        if units:
            docs.append(gold_graph(f"wd-{path.stem}", text, units, relations))
    return docs


def read_argmine_graphs(paths: list[str | Path]) -> list[Graph]:
    """argmine graph JSON (or JSON Lines) used as gold: their units and support/attack relations."""
    return [g for path in paths for g in load_graphs(str(path))]


# ---------------------------------------------------------------- dialogue and reply corpora


QT30_RELATIONS = {"RA": "support", "CA": "attack"}


def read_qt30(folder: str | Path) -> list[Graph]:
    """QT30 AIF nodesets as argmine threads: each speaker turn is a post answering the turn before.

    Units are the propositions (I nodes) located in their locution's words (the L node after
    ``Speaker :``; the whole locution when the proposition was reworded). RA = support
    (premise -> conclusion), CA = attack. A cross-turn relation that points from an earlier turn to
    a later one is turned round: in a thread, a reply points back at what it answers.
    """
    docs = []
    for path in sorted(Path(folder).glob("*.json")):
        doc = _qt30_thread(path.stem, jsonio.parse(path.read_text(encoding="utf-8"), str(path)))
        if doc is not None:
            docs.append(doc)
    return docs


@dataclass
class _Aif:
    """A QT30 nodeset: nodes by id and, for each node, the nodes its edges come from and go to."""

    nodes: dict[str, dict]
    into: dict[str, list[str]]
    out_of: dict[str, list[str]]

    def of_type(self, ids: list[str], kind: str) -> list[str]:
        """Those of ``ids`` that are nodes of type ``kind``, in order."""
        return [x for x in ids if self.nodes.get(x, {}).get("type") == kind]


@dataclass
class _Transcript:
    """The dialogue as one text: a post per turn, and each locution's span ``(start, end, post)``."""

    text: str
    posts: list[Post]
    span_of: dict[str, tuple[int, int, str]]


def _qt30_thread(name: str, data: dict) -> Graph | None:
    """One QT30 episode as a gold graph: a post per speaker turn, a unit per locution carrying a
    proposition, and RA/CA relations pointing back (a reply's unit to the earlier one); None if empty."""
    aif = _aif(data)
    locutions = _locutions(aif)
    spoken = [_speaker_and_words(n["text"]) for n in locutions]
    turns = _turns(spoken)
    if not turns:
        return None
    transcript = _transcript(turns, spoken, locutions)
    loc_of = _proposition_locutions(aif)
    units = _qt30_units(aif, loc_of, transcript)
    if not units.spans:
        return None
    relations = _qt30_relations(aif, loc_of, units, transcript.posts)
    gold = [(s, t, label) for (s, t), label in sorted(relations.items()) if (t, s) not in relations or s > t]
    episode = (locutions[0].get("timestamp") or "")[:10] if locutions else ""
    return gold_graph(f"qt30-{name}", transcript.text, units.spans, gold, transcript.posts, group=episode)


def _aif(data: dict) -> _Aif:
    """A nodeset's nodes and edges, indexed both ways."""
    into: dict[str, list[str]] = defaultdict(list)
    out_of: dict[str, list[str]] = defaultdict(list)
    for e in data.get("edges", []):
        out_of[e["fromID"]].append(e["toID"])
        into[e["toID"]].append(e["fromID"])
    return _Aif({n["nodeID"]: n for n in data.get("nodes", [])}, into, out_of)


def _locutions(aif: _Aif) -> list[dict]:
    """The dialogue's L nodes in time order. Annotators' copies of locutions carry no edges: only
    connected L nodes are the dialogue."""
    return sorted(
        (n for n in aif.nodes.values() if n["type"] == "L" and (aif.into[n["nodeID"]] or aif.out_of[n["nodeID"]])),
        key=lambda n: (n.get("timestamp", ""), int(n["nodeID"]) if n["nodeID"].isdigit() else 0),
    )


class _Spoken(NamedTuple):
    """A locution's speaker and words."""

    speaker: str
    words: str


def _speaker_and_words(text: str) -> _Spoken:
    """``Speaker : words`` (or ``Speaker: words``) split in two; no speaker when there is no separator."""
    speaker, sep, words = text.partition(" : ")
    if not sep:
        speaker, sep, words = text.partition(": ")
    return _Spoken(speaker.strip(), (words if sep else text).strip())


def _turns(spoken: list[_Spoken]) -> list[tuple[str, list[int]]]:
    """Runs of consecutive locutions (by index) by one speaker; empty locutions are skipped."""
    turns: list[tuple[str, list[int]]] = []
    for i, (speaker, words) in enumerate(spoken):
        if not words:
            continue
        if turns and turns[-1][0] == speaker:
            turns[-1][1].append(i)
        else:
            turns.append((speaker, [i]))
    return turns


def _transcript(turns: list[tuple[str, list[int]]], spoken: list[_Spoken], locutions: list[dict]) -> _Transcript:
    """Turns joined by blank lines, a turn's locutions by spaces; each turn answers the one before."""
    parts: list[str] = []
    posts: list[Post] = []
    span_of: dict[str, tuple[int, int, str]] = {}
    offset = 0
    for t, (speaker, members) in enumerate(turns):
        if t:
            parts.append("\n\n")
            offset += 2
        start = offset
        for k, i in enumerate(members):
            if k:
                parts.append(" ")
                offset += 1
            words = spoken[i].words
            span_of[locutions[i]["nodeID"]] = (offset, offset + len(words), f"t{t + 1}")
            parts.append(words)
            offset += len(words)
        posts.append(
            Post(f"t{t + 1}", "article" if t == 0 else "comment", start, offset, None if t == 0 else f"t{t}", speaker or None)
        )
    return _Transcript("".join(parts), posts, span_of)


def _proposition_locutions(aif: _Aif) -> dict[str, str]:
    """Each proposition (I node) -> the first locution that asserts it (via a YA node)."""
    loc_of: dict[str, str] = {}
    for n in aif.nodes.values():
        if n["type"] != "I":
            continue
        for ya in aif.of_type(aif.into[n["nodeID"]], "YA"):
            ls = aif.of_type(aif.into[ya], "L")
            if ls:
                loc_of[n["nodeID"]] = ls[0]
                break
    return loc_of


class _QtUnits(NamedTuple):
    """An episode's gold units and which locution each came from."""

    spans: list[tuple[int, int, str]]  # (start, end, post) in text order
    of_locution: dict[str, int]  # L node -> unit index


def _qt30_units(aif: _Aif, loc_of: dict[str, str], transcript: _Transcript) -> _QtUnits:
    """Units ``(start, end, post)`` in text order, one per locution that carries a proposition, narrowed
    to the proposition's words when they occur verbatim; and each such locution's unit index."""
    text, span_of = transcript.text, transcript.span_of
    unit_of_loc: dict[str, int] = {}
    spans: list[tuple[int, int, str]] = []
    for i_node, l_node in sorted(loc_of.items(), key=lambda kv: span_of.get(kv[1], (0,))[0]):
        if l_node not in span_of or l_node in unit_of_loc:
            continue
        start, end, post = span_of[l_node]
        words = aif.nodes[i_node]["text"].strip().rstrip(".")
        at = text.lower().find(words.lower(), start, end) if words else -1
        if at >= 0 and len(words) >= 0.6 * (end - start):
            start, end = at, at + len(words)
        start, end = trim_span(text, start, end)
        if end > start:
            unit_of_loc[l_node] = len(spans)
            spans.append((start, end, post))
    order = sorted(range(len(spans)), key=lambda k: spans[k][0])
    renumber = {old: new for new, old in enumerate(order)}
    return _QtUnits([spans[k] for k in order], {loc: renumber[k] for loc, k in unit_of_loc.items()})


def _qt30_relations(aif: _Aif, loc_of: dict[str, str], units: _QtUnits, posts: list[Post]) -> dict[tuple[int, int], str]:
    """(source unit, target unit) -> label for every RA/CA node between two units; a reply points back."""
    post_rank = {p.id: k for k, p in enumerate(posts)}
    relations: dict[tuple[int, int], str] = {}
    for n in aif.nodes.values():
        label = QT30_RELATIONS.get(n["type"])
        if label is None:
            continue
        sources = [units.of_locution.get(loc_of.get(x)) for x in aif.of_type(aif.into[n["nodeID"]], "I")]
        targets = [units.of_locution.get(loc_of.get(x)) for x in aif.of_type(aif.out_of[n["nodeID"]], "I")]
        for s in sources:
            for t in targets:
                if s is None or t is None or s == t:
                    continue
                if post_rank[units.spans[s][2]] < post_rank[units.spans[t][2]]:
                    s, t = t, s  # a reply points back
                relations.setdefault((s, t), label)
    return relations


REPLY_LABELS = {"0": "attack", "1": "none", "2": "support"}


@dataclass(frozen=True)
class ReplyPair:
    """A forum response and the post it answers; ``label`` is the response's stance towards it."""

    quote: str
    response: str
    label: str  # support (agree) | attack (disagree) | none (neutral)
    corpus: str
    topic: str


def read_reply_agreement(folder: str | Path) -> list[ReplyPair]:
    """The reply-agreement collection (IAC, AWTP, ABCD, r/MaskMandate), through ``datasets``' CSV reader.

    Rows repeat across the original splits: each (quote, response) pair is kept once. Topic is the
    IAC folder, or the source itself where it has no topics (AWTP, ABCD, MaskMandate).
    """
    from datasets import disable_progress_bars, load_dataset

    disable_progress_bars()
    folder = Path(folder)
    files = sorted(folder.glob("*/*.csv")) + sorted(folder.glob("IAC/*/*.csv"))
    if not files:
        raise InputError(f"{folder}: no reply-agreement CSV files found")
    seen: set[tuple[str, str]] = set()
    out: list[ReplyPair] = []
    for path in files:
        corpus = path.relative_to(folder).parts[0]
        topic = path.parent.name if corpus == "IAC" else corpus
        data = load_dataset(
            "csv",
            data_files=str(path),
            split="train",
            delimiter="\t" if corpus == "ABCD" else ",",
            keep_default_na=False,
            encoding_errors="replace",
        )
        for row in data:
            quote, response = (row.get("quote_text") or "").strip(), (row.get("response_text") or "").strip()
            label = REPLY_LABELS.get(str(row.get("relation", "")).strip())
            if not quote or not response or label is None or (quote, response) in seen:
                continue
            seen.add((quote, response))
            out.append(ReplyPair(quote, response, label, corpus, topic))
    return out


def split_replies(pairs: list[ReplyPair], test_topics: list[str], dev_topics: list[str]) -> dict[str, list[ReplyPair]]:
    """Hold out whole topics: a test and a dev set the model never trains on."""
    out: dict[str, list[ReplyPair]] = {"train": [], "dev": [], "test": []}
    for p in pairs:
        out["test" if p.topic in test_topics else "dev" if p.topic in dev_topics else "train"].append(p)
    return out


def split_by_group(docs: list[Graph], fractions: dict[str, float], seed: int) -> dict[str, list[Graph]]:
    """Split documents by their group (a QT30 episode): no group is in two parts."""
    groups = sorted({group_of(d) for d in docs})
    random.Random(seed).shuffle(groups)
    out: dict[str, list[Graph]] = {name: [] for name in fractions}
    bounds, total = [], 0.0
    for name, share in fractions.items():
        total += share
        bounds.append((name, total))
    for k, group in enumerate(groups):
        where = (k + 0.5) / len(groups)
        name = next((n for n, b in bounds if where <= b), bounds[-1][0])
        out[name] += [d for d in docs if group_of(d) == group]
    return out


def reply_thread(pair: ReplyPair, doc_id: str) -> Document:
    """A reply pair as a two-post argmine thread: the quote as the article, the response answering it."""
    return join_posts(doc_id, [PostText("quote", "article", pair.quote), PostText("response", "comment", pair.response, "quote")])


def reply_document(pair: ReplyPair, k: int, settings) -> Document:
    """Reply pair number ``k`` as a segmented two-post thread (``reply-K``): how evaluation, training and
    the threshold choice all read a reply pair."""
    from argmine.units.segmenter import segment

    return segment(reply_thread(pair, f"reply-{k}"), settings.segmenter, settings.boilerplate)


# ---------------------------------------------------------------- pair corpora


def read_pair_file(path: str | Path) -> list[Pair]:
    """argmine's own pair format: JSONL or CSV with ``text_a``, ``text_b``, ``label``."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = jsonio.records(read_text(path), str(path))
    pairs = []
    for n, row in enumerate(rows, start=1):
        label = str(row.get("label", "")).strip().lower()
        if label not in ("support", "attack", "none") or not row.get("text_a") or not row.get("text_b"):
            raise InputError(f"{path}: record {n} needs text_a, text_b and label support|attack|none")
        pairs.append(Pair(row["text_a"], row["text_b"], label, path.stem))
    return pairs


def read_debatepedia(folder: str | Path, split: str = "train") -> list[Pair]:
    """Debatepedia argument pairs (Jo et al. 2021): relation 1 support, -1 attack, text_from -> text_to."""
    pairs = []
    for path in sorted(Path(folder).glob("debate_*_pairs-bi.csv")):
        split_path = path.with_name(path.stem + "-split.csv")
        splits = {}
        if split_path.exists():
            with split_path.open(encoding="utf-8", newline="") as handle:
                splits = {r["pairid"]: r["split"] for r in csv.DictReader(handle)}
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if splits and splits.get(row["pairid"]) != split:
                    continue
                label = {"1": "support", "-1": "attack"}.get(row["relation"].strip())
                if label:
                    pairs.append(Pair(row["text_from"], row["text_to"], label, "debatepedia", row["argid"]))
    return pairs


def read_political_debates(path: str | Path) -> list[Pair]:
    """Nixon-Kennedy debate pairs (Menini et al. 2018): support / attack / no_relation, argument1 -> argument2."""
    labels = {"support": "support", "attack": "attack", "no_relation": "none"}
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [
            Pair(r["argument1"], r["argument2"], labels[r["relation"]], "political-debates", r["topic"])
            for r in csv.DictReader(handle, delimiter="\t")
            if r["relation"] in labels
        ]


def read_ibm_claim_stance(path: str | Path, split: str = "train") -> list[Pair]:
    """IBM claim stance (Bar-Haim et al. 2017): a claim PRO/CON its topic -> support/attack."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [
            Pair(
                r["claims.claimCorrectedText"],
                r["topicText"],
                "support" if r["claims.stance"] == "PRO" else "attack",
                "ibm-claim-stance",
                r["topicId"],
            )
            for r in csv.DictReader(handle)
            if r["split"] == split and r["claims.stance"] in ("PRO", "CON")
        ]


def read_argkp(folder: str | Path, split: str = "train") -> list[Pair]:
    """IBM ArgKP 2021 arguments with stance 1/-1 towards their topic -> support/attack."""
    sub = "test_data" if split == "test" else "kpm_data"
    path = Path(folder) / sub / f"arguments_{split}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Pair(r["argument"], r["topic"], "support" if r["stance"].strip() == "1" else "attack", "ibm-argkp", r["topic"])
            for r in csv.DictReader(handle)
        ]


# ---------------------------------------------------------------- documents -> pairs


def doc_pairs(doc: Graph, corpus: str, none_ratio: float, rng: random.Random, window: int = 6) -> list[Pair]:
    """Gold relations as pairs, plus ``none`` pairs from the same document: every reversed gold link
    inside a post (a hard negative: direction matters) and ``none_ratio`` x #links unrelated unit
    pairs nearby. A pair whose units sit in different posts is a ``reply`` pair and always points
    from the later post back to the earlier one, as argmine scores them."""
    gold = gold_links(doc)
    rank = {p.id: k for k, p in enumerate(doc.posts)}
    text = [u.text for u in doc.units]

    def context(a: int, b: int) -> str:
        return "post" if doc.units[a].post == doc.units[b].post else "reply"

    def scored(a: int, b: int) -> bool:  # argmine never scores a unit against a later post
        return rank.get(doc.units[a].post, 0) >= rank.get(doc.units[b].post, 0)

    pairs = [Pair(text[s], text[t], label, corpus, doc.id, context(s, t)) for (s, t), label in sorted(gold.items())]
    negatives = [(t, s) for s, t in gold if (t, s) not in gold and scored(t, s)]
    n = len(doc.units)
    others = [
        (a, b)
        for a in range(n)
        for b in range(n)
        if a != b and abs(a - b) <= window and (a, b) not in gold and (b, a) not in gold and scored(a, b)
    ]
    rng.shuffle(others)
    negatives += others[: int(round(none_ratio * max(1, len(gold))))]
    pairs += [Pair(text[a], text[b], "none", corpus, doc.id, context(a, b)) for a, b in negatives]
    return pairs


def group_none_pairs(pairs: list[Pair], ratio: float, rng: random.Random) -> list[Pair]:
    """Hard ``none`` pairs for pair corpora: a text against the most similar target of *another*
    debate, so that sharing a topic is not mistaken for supporting or attacking."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    targets = sorted({(p.group, p.text_b) for p in pairs})
    if len({g for g, _ in targets}) < 2:
        return []
    chosen = rng.sample(pairs, k=min(len(pairs), int(round(ratio * len(pairs)))))
    vectorizer = TfidfVectorizer(stop_words="english").fit([t for _, t in targets] + [p.text_a for p in chosen])
    target_matrix = vectorizer.transform([t for _, t in targets])
    sims = (vectorizer.transform([p.text_a for p in chosen]) @ target_matrix.T).toarray()
    out = []
    for row, p in enumerate(chosen):
        for j in sims[row].argsort()[::-1]:
            group, text = targets[j]
            if group != p.group:
                out.append(Pair(p.text_a, text, "none", p.corpus, p.group))
                break
    return out


def split_docs(docs: list[Graph], fraction: float, seed: int) -> tuple[list[Graph], list[Graph]]:
    """Deterministic document split: (first ``fraction``, rest)."""
    order = sorted(docs, key=lambda d: d.id)
    random.Random(seed).shuffle(order)
    cut = int(round(fraction * len(order)))
    return order[:cut], order[cut:]


# ---------------------------------------------------------------- the registry

QT30_SPLIT = {"train": 0.7, "dev": 0.15, "test": 0.15}  # by episode (broadcast date), seeded
REPLY_TEST_TOPICS = ["gun_control", "gay_marriage", "SubReddit-MaskMandate"]
REPLY_DEV_TOPICS = [
    "existence_of_God",
    "healthcare",
    "climate_change",
    "marijuana_legalization",
    "death_penalty",
    "communism_vs_capitalism",
]
SPLIT_SEED = 13


@dataclass(frozen=True)
class Corpus:
    """One corpus: how to read it, what it holds and which parts are held out.

    ``kind``: ``documents`` (gold graphs: units and relations), ``pairs`` (labelled text pairs, training
    only) or ``replies`` (a post and its answer, with the answer's stance). ``split`` maps the items to
    ``train`` / ``dev`` / ``test``: where it is declared, training uses only ``train`` (``dev`` chooses
    thresholds) and evaluation scores ``test`` by default. ``as_is``: a user's own file, trained on as it
    is (no pairs added, its contexts kept).
    """

    name: str
    kind: Literal["documents", "pairs", "replies"]
    read: Callable[[str | Path], list]
    licence: str
    split: Callable[[list], dict[str, list]] | None = None
    as_is: bool = False

    def parts(self, items: list) -> dict[str, list]:
        """The declared split; a corpus that declares none is all ``train``."""
        return self.split(items) if self.split else {"train": items, "dev": [], "test": []}


CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in [
        Corpus("microtexts", "documents", read_microtexts, "Argumentative microtexts part 1 (Peldszus & Stede): CC BY-NC-SA 4.0"),
        Corpus("cdcp", "documents", read_cdcp, "Cornell eRulemaking CDCP, train split only (Park & Cardie 2018): ODbL / DbCL"),
        Corpus(
            "web-discourse",
            "documents",
            read_web_discourse,
            "User-generated web discourse (Habernal & Gurevych 2017): Apache-2.0",
        ),
        Corpus("graph", "documents", lambda path: read_argmine_graphs([path]), "argmine graphs supplied by the user"),
        Corpus(
            "qt30",
            "documents",
            read_qt30,
            "QT30 BBC Question Time nodesets (Hautli-Janisz et al., LREC 2022; DialAM-2024 release): no licence stated, research use",
            split=lambda docs: split_by_group(docs, QT30_SPLIT, SPLIT_SEED),
        ),
        Corpus(
            "reply-agreement",
            "replies",
            read_reply_agreement,
            "forum reply pairs: IAC 4forums, AWTP, ABCD, r/MaskMandate (Lei & Huang 2022 collection): no licence stated, research use",
            split=lambda pairs: split_replies(pairs, REPLY_TEST_TOPICS, REPLY_DEV_TOPICS),
        ),
        Corpus("pairs", "pairs", read_pair_file, "argmine pair file supplied by the user", as_is=True),
        Corpus(
            "debatepedia",
            "pairs",
            read_debatepedia,
            "Debatepedia argument pairs (Jo et al., TACL 2021): no licence stated (Debatepedia content)",
        ),
        Corpus(
            "political-debates",
            "pairs",
            read_political_debates,
            "Nixon-Kennedy debate pairs (Menini et al., AAAI 2018): CC BY 4.0",
        ),
        Corpus(
            "ibm-claim-stance",
            "pairs",
            read_ibm_claim_stance,
            "IBM Debater claim stance (Bar-Haim et al., EACL 2017): CC BY-SA 3.0",
        ),
        Corpus("argkp", "pairs", read_argkp, "IBM ArgKP 2021: CDLA-Sharing 1.0"),
    ]
}


def corpus(name: str, kinds: tuple[str, ...] = ("documents", "pairs", "replies"), what: str = "corpus") -> Corpus:
    """The corpus called ``name`` among those of ``kinds``; anything else is a one-line configuration error."""
    choices = [n for n, c in CORPORA.items() if c.kind in kinds]
    if name not in choices:
        raise ConfigError(f"unknown {what} {name!r} (choose from {', '.join(choices)})")
    return CORPORA[name]
