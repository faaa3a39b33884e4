#!/usr/bin/env python3
"""Writes the tokenizer reference fixtures in Tests/TokenizerFixtures/ (run once; the tests need no Python).

Reference ids come from the PyPI packages `tokenizers` (Tokenizer.encode(text, add_special_tokens=False))
and `tiktoken` (Encoding.encode(text, allowed_special="all")), for the real tokenizers in
../shared/data/tokenizers/ (DeepSeek-V3 tokenizer.json, cl100k_base.tiktoken) and for two small
tokenizers built here that exercise the components the real ones lack (NFKC/NFC normalizers, Replace,
Prepend, Digits, Split behaviours and invert, ByteLevel with its regex and add_prefix_space, byte
fallback, normalized and lstrip/rstrip added tokens, the ByteFallback/Fuse/Strip/Replace decoders).

    pip install tokenizers tiktoken
    python3 scripts/make_tokenizer_fixtures.py            # writes the fixtures
    python3 scripts/make_tokenizer_fixtures.py --bench    # prints the Python encode speed (MB/s)

Versions used for the committed fixtures: tokenizers 0.23.3, tiktoken 0.14.0.
"""
import json
import os
import sys
import time

import tiktoken
from tiktoken.load import load_tiktoken_bpe
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data", "tokenizers")
OUT = os.path.join(ROOT, "Tests", "TokenizerFixtures")

PARAGRAPH = (
    "Large language models are benchmarked by sending many requests at once and timing every token. "
    "大语言模型的性能测试需要精确的计时：首个令牌延迟、每个令牌的输出时间以及整体吞吐量。"
    "日本語のテキストも含めます：東京タワーは1958年に完成しました。\n\n"
    "def handler(request):\n    if request.method == 'POST':\n        return {\"ok\": True, \"n\": 42}\n\n"
    "Numbers 1234567 and 3.14159, emoji 🚀🔥 and    spaces.\n"
)

TEXTS = {
    "empty": "",
    "english": "The quick brown fox jumps over the lazy dog. It's 5 o'clock; we'll see—they've gone!",
    "english_caps": "HELLO World, I'M HERE. DON'T SHOUT. You'RE fine, WE'LL see.",
    "contractions": "I'm you're he's she'd we've they'll it's 'tis rock'n'roll",
    "chinese": "人工智能正在改变世界。我们需要更好的基准测试工具来衡量大语言模型的推理速度，以及服务的吞吐量。",
    "japanese": "東京は日本の首都です。ひらがなとカタカナ、そして漢字を使います。ラーメンが大好き！",
    "korean_russian_arabic_hindi": "안녕하세요, 세계! Привет, мир! مرحبا بالعالم नमस्ते दुनिया",
    "code_python": "import os\n\ndef main(argv):\n\tfor i, a in enumerate(argv[1:]):\n        print(f\"{i:>3}: {a!r}\")  # comment\n    return 0x1F & ~mask\n",
    "code_swift": "struct Point: Equatable { var x = 0, y = 0 }\nlet ps = [Point(x: 1, y: 2)].map { $0.x * 2 } // ok\n",
    "json": "{\"model\": \"deepseek-v3\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 1024}",
    "digits": "1234567890 3.14159 1,000,000 2024-02-14 +86 138-0013-8000 ０１２３ ٣٤٥ ⅣⅫ ½ 99999999999999999999",
    "emoji": "I love 🍕 and 🚀! 👩‍💻 works; flags 🇯🇵🇺🇸, skin 👍🏽. ❤️ 😀😃😄😁",
    "whitespace_runs": "a  b   c\t\td\n\n\ne \r\n f     \n   \u3000g\u00a0h   ",
    "whitespace_only": "     \n\n    \t ",
    "trailing_newlines": "line one\nline two\n\n\n",
    "accents_compat": "Résumé naïve café — Ünïcödé ﬁle ① Ａ ｶﾀｶﾅ e\u0301 Å",
    "long_word": "a" * 120 + " " + "ab" * 80 + " " + "熵" * 60,
    "paragraph": PARAGRAPH * 3,
}



def random_token_text():
    """2,000 random DeepSeek-V3 ids decoded (seeded): control characters, broken UTF-8 (U+FFFD), mixed
    scripts, the kind of text the `random` dataset re-encodes. Not used to train the small tokenizers."""
    import random
    ds = Tokenizer.from_file(os.path.join(SHARED, "deepseek-v3.tokenizer.json"))
    rng = random.Random(7)
    return ds.decode([rng.randrange(128000) for _ in range(2000)])


DEEPSEEK_SPECIAL = {
    "special_tokens": "<｜begin▁of▁sentence｜>Hello<｜User｜>你好<｜Assistant｜>Hi!<｜end▁of▁sentence｜>"
    "<｜fim▁begin｜>x<｜fim▁hole｜>y<｜fim▁end｜>",
}
CL100K_SPECIAL = {
    "special_tokens": "<|endoftext|>Hello<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>z<|endofprompt|> end",
}
SMALL_SPECIAL = {
    "special_tokens": "one<|sep|>two [mask]  three\n[mask] four ﬁx fix <|sep|><|sep|>",
}


def hf_cases(tok, texts):
    cases = []
    for name, text in texts.items():
        ids = tok.encode(text, add_special_tokens=False).ids
        cases.append({"name": name, "text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    return cases


def build_bytelevel_small():
    """Byte-level BPE: NFKC, Digits(individual) + ByteLevel(add_prefix_space, use_regex), added tokens."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=700, min_frequency=1, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(list(TEXTS.values()) * 3, trainer=trainer)
    tok.add_special_tokens([AddedToken("<|sep|>", special=True, normalized=False)])
    tok.add_tokens([AddedToken("[mask]", lstrip=True, rstrip=True, normalized=True), AddedToken("ﬁx", normalized=True)])
    return tok


def build_charlevel_fallback():
    """Character BPE with byte fallback: NFC + Prepend/Replace(▁), Split behaviours, ByteFallback decoders."""
    base = Tokenizer(models.BPE())
    base.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    base.pre_tokenizer = pre_tokenizers.Split("▁", "merged_with_next")
    trainer = trainers.BpeTrainer(vocab_size=400, min_frequency=2, show_progress=False)
    base.train_from_iterator([TEXTS["english"], TEXTS["english_caps"], TEXTS["contractions"], TEXTS["code_python"]] * 3,
                             trainer=trainer)
    data = json.loads(base.to_str())
    vocab = data["model"]["vocab"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in data["model"]["merges"]]
    for b in range(256):
        vocab.setdefault("<0x%02X>" % b, len(vocab))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=True, fuse_unk=False))
    tok.normalizer = base.normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split("▁", "merged_with_next"),
        pre_tokenizers.Split(Regex(r"[.,;!?]+"), "merged_with_previous"),
        pre_tokenizers.Split(Regex(r"\p{N}"), "contiguous"),
        pre_tokenizers.Split("-", "removed"),
        pre_tokenizers.Split(Regex(r"[\p{L}\p{M}▁]+"), "isolated", invert=True),
        pre_tokenizers.Digits(individual_digits=False),
    ])
    tok.decoder = decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0),
    ])
    tok.add_special_tokens([AddedToken("<|sep|>", special=True, normalized=False)])
    return tok


def cl100k():
    ranks = load_tiktoken_bpe(os.path.join(SHARED, "cl100k_base.tiktoken"))
    # tiktoken_ext/openai_public.py's cl100k_base pattern and special tokens (the rank file is local, so
    # tiktoken.get_encoding, which downloads it, is not used).
    pat = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
    special = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260,
               "<|endofprompt|>": 100276}
    return tiktoken.Encoding(name="cl100k_base", pat_str=pat, mergeable_ranks=ranks, special_tokens=special)


def write(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def bench():
    text = (PARAGRAPH + TEXTS["english"] + TEXTS["code_python"] + TEXTS["chinese"]) * 400
    mb = len(text.encode()) / 1e6
    ds = Tokenizer.from_file(os.path.join(SHARED, "deepseek-v3.tokenizer.json"))
    enc = cl100k()
    for label, fn in [("tokenizers DeepSeek-V3", lambda: ds.encode(text, add_special_tokens=False).ids),
                      ("tiktoken cl100k_base", lambda: enc.encode(text, allowed_special="all"))]:
        fn()
        best = min(timed(fn) for _ in range(3))
        print(f"{label}: {mb:.2f} MB in {best:.3f} s = {mb / best:.1f} MB/s (single call, best of 3)")


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    if "--bench" in sys.argv:
        bench()
        return
    os.makedirs(OUT, exist_ok=True)
    import tokenizers
    versions = {"tokenizers": tokenizers.__version__, "tiktoken": tiktoken.__version__}

    extra = {"random_tokens": random_token_text()}
    ds = Tokenizer.from_file(os.path.join(SHARED, "deepseek-v3.tokenizer.json"))
    write("deepseek-v3.ids.json", {"versions": versions, "tokenizer": "../shared/data/tokenizers/deepseek-v3.tokenizer.json",
                                   "cases": hf_cases(ds, {**TEXTS, **extra, **DEEPSEEK_SPECIAL})})

    enc = cl100k()
    cases = []
    for name, text in {**TEXTS, **extra, **CL100K_SPECIAL}.items():
        ids = enc.encode(text, allowed_special="all")
        cases.append({"name": name, "text": text, "ids": ids, "decoded": enc.decode(ids)})
    write("cl100k_base.ids.json", {"versions": versions, "tokenizer": "../shared/data/tokenizers/cl100k_base.tiktoken",
                                   "cases": cases})

    for file_name, tok in [("small-bytelevel", build_bytelevel_small()), ("small-bytefallback", build_charlevel_fallback())]:
        tok.save(os.path.join(OUT, file_name + ".tokenizer.json"))
        print(f"wrote {file_name}.tokenizer.json")
        write(file_name + ".ids.json", {"versions": versions, "tokenizer": file_name + ".tokenizer.json",
                                        "cases": hf_cases(tok, {**TEXTS, **extra, **SMALL_SPECIAL})})


if __name__ == "__main__":
    main()
