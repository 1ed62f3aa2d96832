"""The stand-in UCSC server speaks UCSC's formats, serves real soft-masked sequence and injects faults."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import ucsc_server as stand_in
from tests.support.ucsc_server import (
    Fault,
    UcscServer,
    is_soft_masked,
    reference_bases,
)

ucsc_server = stand_in.ucsc_server  # the fixture (conftest may import it as well)

DATA = Path(__file__).parents[1] / "data" / "ucsc"
STAMP = 1735689600  # 2025-01-01T00:00:00Z, the time in the constructed bodies


@pytest.fixture
def fixed() -> Iterator[UcscServer]:
    with UcscServer(clock=lambda: STAMP) as server:
        yield server


def get(server: UcscServer, path_and_query: str) -> httpx.Response:
    return httpx.get(server.url + path_and_query, timeout=5)


@pytest.mark.parametrize(
    ("query", "status", "constructed"),
    [
        (
            "/getData/sequence?genome=hg38;chrom=chr17;start=43119577;end=43119678",
            200,
            "constructed_200_getData_sequence_hg38_chr17_43119577_43119678.json",
        ),
        (
            "/getData/sequence?genome=hg99;chrom=chr17;start=1;end=2",
            400,
            "constructed_400_unknown_genome.json",
        ),
        (
            "/getData/sequence?genome=hg38;chrom=chr99;start=1;end=2",
            400,
            "constructed_400_unknown_chrom.json",
        ),
        (
            "/getData/sequence?genome=hg38;chrom=chr17;start=83257400;end=83257450",
            400,
            "constructed_400_end_past_chrom_end.json",
        ),
        (
            "/getData/sequence?genome=hg38;chrom=chr17;start=100;end=50",
            400,
            "constructed_400_illegal_start_end.json",
        ),
        ("/getData/sequence?genome=hg38", 400, "constructed_400_missing_chrom.json"),
    ],
)
def test_bodies_match_the_constructed_ucsc_bodies_byte_for_byte(
    fixed: UcscServer, query: str, status: int, constructed: str
) -> None:
    response = get(fixed, query)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.content == (DATA / constructed).read_bytes()


def test_chromosome_list_has_ucsc_layout_with_data_time(fixed: UcscServer) -> None:
    response = get(fixed, "/list/chromosomes?genome=hg38")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "downloadTime",
        "downloadTimeStamp",
        "genome",
        "dataTime",
        "dataTimeStamp",
        "chromCount",
        "chromosomes",
    ]
    assert body["dataTime"] == "2024-01-01T00:00:00"  # ISO 8601 with a T, unlike downloadTime
    assert body["chromosomes"]["chr17"] == 83_257_441
    # Without the two dataTime fields (which the constructed body leaves out) the bytes are identical.
    del body["dataTime"], body["dataTimeStamp"]
    assert (
        json.dumps(body).encode()
        == (DATA / "constructed_200_list_chromosomes_hg38_partial.json").read_bytes()
    )
    hg19 = get(fixed, "/list/chromosomes?genome=hg19").json()
    assert hg19["chromCount"] == 93
    assert hg19["chromosomes"]["chr17"] == 81_195_210
    assert hg19["chromosomes"]["chr22"] == 51_304_566


def test_download_time_uses_colons_in_the_date(ucsc_server: UcscServer) -> None:
    body = get(ucsc_server, "/list/chromosomes?genome=hg19").json()
    assert len(body["downloadTime"]) == 20
    assert body["downloadTime"][4] == ":" and body["downloadTime"][7] == ":"
    assert body["downloadTime"].endswith("Z")


def test_sequence_is_real_and_soft_masked(ucsc_server: UcscServer) -> None:
    start, end = 43_117_900, 43_118_600  # crosses the masked block [43,118,000, 43,118,500)
    body = get(ucsc_server, f"/getData/sequence?genome=hg38;chrom=chr17;start={start};end={end}").json()
    dna = body["dna"]
    assert (body["start"], body["end"], len(dna)) == (start, end, end - start)
    assert dna.upper() == reference_bases("hg38", "chr17", start, end)
    for offset, base in enumerate(dna):
        assert base.islower() == is_soft_masked(start + offset)
    assert any(b.islower() for b in dna) and any(b.isupper() for b in dna)


def test_sequence_matches_the_fasta_file_and_the_known_reference_base(ucsc_server: UcscServer) -> None:
    # The original project's example variant: hg38 chr17:43,119,628 (1-based) has reference T.
    body = get(ucsc_server, "/getData/sequence?genome=hg38;chrom=chr17;start=43119627;end=43119628").json()
    assert body["dna"].upper() == "T"
    # hg19 is hg38 - 1,847,983 in BRCA1.
    body = get(ucsc_server, "/getData/sequence?genome=hg19;chrom=chr17;start=41271644;end=41271645").json()
    assert body["dna"].upper() == "T"
    # Every slice is served: first line of the hg19 chr22 file (1-based 20,000,001).
    body = get(ucsc_server, "/getData/sequence?genome=hg19;chrom=chr22;start=20000000;end=20000010").json()
    assert body["dna"].upper() == "TGGGAAGGTG"
    # The assembly gap in that file is served as N.
    body = get(ucsc_server, "/getData/sequence?genome=hg19;chrom=chr22;start=20509431;end=20509441").json()
    assert body["dna"] == "N" * 10


def test_ampersand_separators_and_rev_comp(ucsc_server: UcscServer) -> None:
    plain = get(ucsc_server, "/getData/sequence?genome=hg38&chrom=chr17&start=43119600&end=43119640").json()
    flipped = get(
        ucsc_server, "/getData/sequence?genome=hg38;chrom=chr17;start=43119600;end=43119640;revComp=1"
    ).json()
    assert list(flipped) == [
        "downloadTime",
        "downloadTimeStamp",
        "genome",
        "chrom",
        "start",
        "end",
        "revComp",
        "dna",
    ]
    assert flipped["revComp"] is True
    complement = str.maketrans("ACGTacgt", "TGCAtgca")
    assert flipped["dna"] == plain["dna"].translate(complement)[::-1]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "/getData/sequence?genome=hg38;chrom=chr17;start=0;end=10;strand=-",
            "extraneous arguments found for function /getData/sequence 'strand=-'",
        ),
        (
            "/getData/sequence?genome=hg38;chrom=chr17;start=0;start=5;end=10",
            "duplicate arguments found for function /getData/sequence 'start=0;start=5'",
        ),
        (
            "/getData/sequence?genome=hg38;chrom=chr17;start=-1;end=10",
            "illegal start,end coordinates given: -1,10, 'end' must be greater than 'start', "
            "and start greater than or equal to zero",
        ),
        ("/getData/sequence?chrom=chr17", "missing URL genome=<ucscDb> name for endpoint '/getData/sequence"),
        ("/list/chromosomes?genome=hg99", "can not find genome='hg99' for endpoint '/list/chromosomes'"),
        (
            "/list/chromosomes?genome=hg38;track=x",
            "extraneous arguments found for function /list/chromosomes 'track=x'",
        ),
        ("/list/tracks?genome=hg38", "do not recognize endpoint function: '/list/tracks'"),
        ("/getData/track?genome=hg38", "can not find track= name for endpoint '/getData/track"),
    ],
)
def test_refusals_are_400_with_ucsc_error_layout(ucsc_server: UcscServer, query: str, message: str) -> None:
    response = get(ucsc_server, query)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["downloadTime", "downloadTimeStamp", "error", "statusCode", "statusMessage"]
    assert body["error"] == message
    assert (body["statusCode"], body["statusMessage"]) == (400, "Bad Request")


def test_bases_outside_the_slices_are_a_500_naming_the_test_bug(ucsc_server: UcscServer) -> None:
    response = get(ucsc_server, "/getData/sequence?genome=hg38;chrom=chr1;start=1000;end=2000")
    assert response.status_code == 500
    assert response.json()["error"].startswith("stand-in has no data for hg38 chr1:[1000,2000)")


def test_request_log_records_path_and_params(ucsc_server: UcscServer) -> None:
    get(ucsc_server, "/getData/sequence?genome=hg38;chrom=chr17;start=43119627;end=43119628")
    get(ucsc_server, "/list/chromosomes?genome=hg19")
    assert ucsc_server.requests == [
        ("/getData/sequence", {"genome": "hg38", "chrom": "chr17", "start": "43119627", "end": "43119628"}),
        ("/list/chromosomes", {"genome": "hg19"}),
    ]
    assert ucsc_server.count("/getData/sequence") == 1
    assert ucsc_server.count() == 2
    ucsc_server.clear_log()
    assert ucsc_server.requests == []


SEQ = "/getData/sequence?genome=hg38;chrom=chr17;start=43119600;end=43119700"


def test_status_fault_with_retry_after_applies_the_given_number_of_times(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("status", status=429, retry_after=1), times=2)
    for _ in range(2):
        response = get(ucsc_server, SEQ)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        body = response.json()
        assert body["statusMessage"] == "Too Many Requests"
        assert "has been sending too many requests lately" in body["error"]
    assert get(ucsc_server, SEQ).status_code == 200


def test_status_fault_defaults_and_custom_message(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("status", status=429))
    assert get(ucsc_server, SEQ).headers["retry-after"] == "30"  # UCSC's bot delay value
    ucsc_server.inject(Fault("status", status=400, message="illegal start,end coordinates given: 5,1"))
    response = get(ucsc_server, SEQ)
    assert (response.status_code, response.json()["error"]) == (
        400,
        "illegal start,end coordinates given: 5,1",
    )
    ucsc_server.inject(Fault("status", status=503), times=None)
    assert [get(ucsc_server, SEQ).status_code for _ in range(3)] == [503, 503, 503]
    ucsc_server.clear_faults()
    assert get(ucsc_server, SEQ).status_code == 200


def test_fault_limited_to_a_path(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("status", status=500, path="/list/chromosomes"))
    assert get(ucsc_server, SEQ).status_code == 200
    assert get(ucsc_server, "/list/chromosomes?genome=hg38").status_code == 500


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        (Fault("truncate_dna", length=3), lambda body: len(body["dna"]) == 97),
        (Fault("extend_dna", length=2), lambda body: len(body["dna"]) == 102 and body["dna"].endswith("AA")),
        (
            Fault("n_run", offset=10, length=20),
            lambda body: body["dna"][10:30] == "N" * 20 and len(body["dna"]) == 100,
        ),
        (Fault("wrong_echo"), lambda body: (body["start"], body["end"]) == (43119601, 43119701)),
    ],
)
def test_dna_faults_spoil_one_answer(ucsc_server: UcscServer, fault: Fault, check: object) -> None:
    ucsc_server.inject(fault)
    spoiled = get(ucsc_server, SEQ).json()
    assert callable(check) and check(spoiled)
    clean = get(ucsc_server, SEQ).json()
    assert (clean["start"], clean["end"], len(clean["dna"])) == (43119600, 43119700, 100)
    assert "N" not in clean["dna"].upper()


def test_invalid_json_fault(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("invalid_json"))
    response = get(ucsc_server, SEQ)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_reset_fault_closes_the_connection_without_an_answer(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("reset"))
    with pytest.raises(httpx.TransportError):
        get(ucsc_server, SEQ)
    assert get(ucsc_server, SEQ).status_code == 200
    assert ucsc_server.count() == 2


def test_slow_fault_outlasts_a_client_timeout(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("slow", delay=2.0))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(ucsc_server.url + SEQ, timeout=0.2)
    assert get(ucsc_server, SEQ).status_code == 200


def test_runs_standalone_from_the_command_line() -> None:
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(
        [sys.executable, "-m", "tests.support.ucsc_server", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            url = line.split(" on ")[1].split()[0]
            response = httpx.get(url + "/list/chromosomes?genome=hg38", timeout=5)
            assert response.json()["chromosomes"]["chr17"] == 83_257_441
        finally:
            process.terminate()
