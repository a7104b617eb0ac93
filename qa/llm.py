"""The local LLM (Qwen2.5-Coder-1.5B GGUF through llama-cpp-python) as a LangChain runnable.

It *chooses* and *phrases*, never invents: ``choose`` picks one of the figures code enumerated
from the evidence (its output is constrained by a grammar to a letter or "none", so it cannot
state a number), and ``phrase`` words an answer code has already chosen: the evidence (one sentence or table row, small
context — the model mixes up quarters and companies as soon as several passages are in its
prompt) and the figure; whatever it writes is checked afterwards (``qa.answer``) and dropped
for the extracted statement if a number is not on the cited evidence.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda

SYSTEM_ZH = ("你是研报问答助手。只能根据提供的资料回答，用一到两句中文直接回答问题，"
             "数字必须与资料中的写法完全一致，不要推测。如果资料中没有答案，请直接回答：资料中未提及")
SYSTEM_EN = ("You answer questions about broker research reports. Use only the given passage. Answer in one "
             "or two English sentences; copy every number exactly as the passage states it. If the passage "
             "does not answer the question, reply: Not mentioned")
REFUSAL_MARKERS = ("资料中未提及", "Not mentioned", "未提及", "not mentioned")

_lock = threading.Lock()
_models: dict[str, object] = {}


class LlmUnavailable(RuntimeError):
    pass


def llm_available(model_path: str | Path | None = None) -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return _resolve(model_path).exists()


def _resolve(model_path: str | Path | None) -> Path:
    if model_path:
        return Path(model_path).expanduser()
    from index.provision import QWEN_CODER_1_5B
    return QWEN_CODER_1_5B.path


def _cores() -> int:
    # the cores this process may use (a CI container may get fewer than the host has);
    # llama.cpp gains little past 8 threads on CPU
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except AttributeError:  # not Linux
        return max(1, min(8, os.cpu_count() or 2))


def load_llm(model_path: str | Path | None = None, n_threads: int | None = None):
    """The llama.cpp model, loaded once per process (3 s, ~1.3 GB)."""
    n_threads = n_threads or _cores()
    path = _resolve(model_path)
    with _lock:
        if str(path) not in _models:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LlmUnavailable("llama-cpp-python is not installed: run `bash .ci/setup`") from exc
            if not path.exists():
                raise LlmUnavailable(f"no GGUF model at {path}: run `yanbao models`")
            _models[str(path)] = Llama(model_path=str(path), n_ctx=2048, n_threads=n_threads, verbose=False)
        return _models[str(path)]


def _chat(llm, max_tokens: int):
    def call(prompt_value) -> str:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        messages = [{"role": roles.get(m.type, "user"), "content": m.content} for m in prompt_value.to_messages()]
        out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0)
        return out["choices"][0]["message"]["content"]
    return RunnableLambda(call)


_PHRASING_PROMPT = ChatPromptTemplate.from_messages([
    ("system", "{system}"),
    ("human", "资料 / Passage:\n{evidence}\n\n问题 / Question: {question}"),
])


def phrasing_chain(model_path: str | Path | None = None, max_tokens: int = 96) -> Runnable:
    """LCEL: {system, evidence, question} → prompt → local LLM → text. Context goes first."""
    return _PHRASING_PROMPT | _chat(load_llm(model_path), max_tokens) | StrOutputParser()


def _chat_stream(llm, max_tokens: int):
    """The same call as ``_chat``, yielding the text as llama.cpp generates it (a generator
    function: LangChain's ``.stream`` passes each piece on as it comes)."""
    def call(prompt_value):
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        messages = [{"role": roles.get(m.type, "user"), "content": m.content} for m in prompt_value.to_messages()]
        for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                                stream=True):
            piece = chunk["choices"][0].get("delta", {}).get("content")
            if piece:
                yield piece
    return RunnableLambda(call)


def phrase(question: str, evidence: str, english: bool, model_path: str | Path | None = None) -> str:
    chain = phrasing_chain(model_path)
    return chain.invoke(_phrasing_input(question, evidence, english)).strip()


def phrase_stream(question: str, evidence: str, english: bool, model_path: str | Path | None = None,
                  max_tokens: int = 96):
    """``phrase``, yielding the wording piece by piece as the model generates it (joined, the
    same text ``phrase`` returns, unstripped)."""
    chain = _PHRASING_PROMPT | _chat_stream(load_llm(model_path), max_tokens) | StrOutputParser()
    yield from chain.stream(_phrasing_input(question, evidence, english))


def _phrasing_input(question: str, evidence: str, english: bool) -> dict:
    return {"system": SYSTEM_EN if english else SYSTEM_ZH, "evidence": evidence, "question": question}


WARM_UP_PASSAGE = "示例公司 2025 年上半年营业收入 12.3 亿元，同比增长 25%。Example Co. reported revenue of US$1.2 billion."


def warm_up(model_path: str | Path | None = None) -> None:
    """Load the model and run one short phrasing per language on a made-up passage: the weights
    are paged in, llama.cpp's buffers sized for a real prompt, and the system prompt's prefix
    cached, so the first real question costs what every later one does."""
    llm = load_llm(model_path)
    chat = _chat(llm, max_tokens=4)
    for english in (True, False):   # Chinese last: most questions are, and it stays in the cache
        (_PHRASING_PROMPT | chat).invoke(_phrasing_input("示例公司一季度收入多少？", WARM_UP_PASSAGE, english))


CHOOSE_ZH = ("你是研报问答助手。根据资料，从候选数字中选出直接回答问题的那一个，只输出它的字母；"
             "如果没有候选能回答问题，输出 Z。")
CHOOSE_EN = ("You answer questions about broker research reports. From the candidate figures, pick the one "
             "that directly answers the question, using the passage. Output only its letter; if none "
             "answers it, output Z.")
LETTERS = "ABCDEFGH"


def choose(question: str, evidence: str, candidates: list[str], english: bool,
           model_path: str | Path | None = None) -> int | None:
    """The index of the candidate the model picks, or None ("none of them"). A grammar limits
    the output to one of the offered letters or Z, so the model cannot write a figure."""
    from llama_cpp import LlamaGrammar
    candidates = candidates[: len(LETTERS)]
    letters = LETTERS[: len(candidates)]
    listing = "\n".join(f"{l}. {c}" for l, c in zip(letters, candidates)) + "\nZ. " + \
        ("none of them" if english else "都不是")
    grammar = LlamaGrammar.from_string("root ::= " + " | ".join(f'"{l}"' for l in letters + "Z"), verbose=False)
    messages = [{"role": "system", "content": CHOOSE_EN if english else CHOOSE_ZH},
                {"role": "user", "content": f"资料 / Passage:\n{evidence}\n\n问题 / Question: {question}\n\n"
                                            f"候选 / Candidates:\n{listing}"}]
    out = load_llm(model_path).create_chat_completion(messages=messages, max_tokens=2, temperature=0.0,
                                                      grammar=grammar)
    answer = out["choices"][0]["message"]["content"].strip()[:1]
    return letters.index(answer) if answer in letters else None
