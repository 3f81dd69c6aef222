import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.cli import main
from recommender.data import InputError

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "recommender", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def read_recs(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def cli_output(csv_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "recs.csv"
    result = run_cli(
        "recommend",
        "--interactions",
        str(csv_folder["interactions"]),
        "--social",
        str(csv_folder["social"]),
        "--items",
        str(csv_folder["items"]),
        "--k",
        "7",
        "--out",
        str(out),
        "--seed",
        "5",
    )
    assert result.returncode == 0, result.stderr
    return out


def test_recommend_writes_the_contract(cli_output, csv_folder):
    with cli_output.open() as handle:
        assert handle.readline().strip() == "user_id,item_id,rank,score,reason"
    rows = read_recs(cli_output)
    with csv_folder["interactions"].open() as handle:
        train = list(csv.DictReader(handle))
    had = {(r["user_id"], r["item_id"]) for r in train}
    users = {r["user_id"] for r in train}
    by_user: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_user.setdefault(row["user_id"], []).append(row)
    assert set(by_user) == users
    for recs in by_user.values():
        assert [int(r["rank"]) for r in recs] == list(range(1, 8))
        scores = [float(r["score"]) for r in recs]
        assert scores == sorted(scores, reverse=True)
        assert all(r["reason"] for r in recs)
    assert not {(r["user_id"], r["item_id"]) for r in rows} & had


def test_recommend_is_deterministic_for_a_seed(cli_output, csv_folder, tmp_path):
    again = tmp_path / "again.csv"
    code = main(
        [
            "recommend",
            "--interactions",
            str(csv_folder["interactions"]),
            "--social",
            str(csv_folder["social"]),
            "--items",
            str(csv_folder["items"]),
            "--k",
            "7",
            "--out",
            str(again),
            "--seed",
            "5",
        ]
    )
    assert code == 0
    assert again.read_bytes() == cli_output.read_bytes()


def test_items_file_is_optional_and_model_can_be_saved(csv_folder, tmp_path):
    out = tmp_path / "recs.csv"
    code = main(
        [
            "recommend",
            "--interactions",
            str(csv_folder["interactions"]),
            "--social",
            str(csv_folder["social"]),
            "--k",
            "3",
            "--out",
            str(out),
            "--save-model",
            str(tmp_path / "m"),
        ]
    )
    assert code == 0 and len(read_recs(out)) == 3 * 300
    assert json.loads((tmp_path / "m" / "metadata.json").read_text())["format_version"] >= 1


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GOOD_SOCIAL = "follower_id,followee_id\nu1,u2\n"


@pytest.mark.parametrize(
    ("interactions", "social", "message"),
    [
        ("", GOOD_SOCIAL, "is empty"),
        ("user_id,item_id,weight,timestamp\n", GOOD_SOCIAL, "no rows"),
        ("uid,item_id\nu1,i1\n", GOOD_SOCIAL, "lacks column"),
        ("user_id,item_id,rating\nu1,i1,5\n", GOOD_SOCIAL, "unknown column(s) rating"),
        ("user_id,item_id\nu1,i1\n", "follower_id,followee_id,weight\nu1,u2,1\n", "unknown column(s) weight"),
        ("user_id,item_id,weight\nu1,i1,abc\n", GOOD_SOCIAL, "not a number"),
        ("user_id,item_id\nu1,i1\n", "who,whom\nu1,u2\n", "lacks column"),
        ("user_id,item_id\nu1,i1\n", "", "is empty"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, interactions, social, message):
    code = main(
        [
            "recommend",
            "--interactions",
            write(tmp_path, "i.csv", interactions),
            "--social",
            write(tmp_path, "s.csv", social),
            "--out",
            str(tmp_path / "o.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_input_through_the_real_command_has_no_traceback(tmp_path):
    result = run_cli(
        "recommend",
        "--interactions",
        write(tmp_path, "i.csv", "user_id,item_id,weight\nu1,i1,x\n"),
        "--social",
        write(tmp_path, "s.csv", GOOD_SOCIAL),
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_and_bad_k_exit_2(tmp_path, csv_folder, capsys):
    assert (
        main(
            [
                "recommend",
                "--interactions",
                str(tmp_path / "none.csv"),
                "--social",
                str(csv_folder["social"]),
                "--out",
                str(tmp_path / "o.csv"),
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "recommend",
                "--interactions",
                str(csv_folder["interactions"]),
                "--social",
                str(csv_folder["social"]),
                "--k",
                "0",
                "--out",
                str(tmp_path / "o.csv"),
            ]
        )
        == 2
    )
    assert "--k must be at least 1" in capsys.readouterr().err


def test_tiny_input_with_self_follows_duplicates_and_social_only_people(tmp_path):
    interactions = "user_id,item_id,weight,timestamp\nu1,a,1,\nu1,b,2,\nu2,b,1,\nu2,c,1,\nu3,a,1,\n"
    social = "follower_id,followee_id\nu1,u1\nu1,u2\nu1,u2\nu3,ghost\nghost,u2\n"
    out = tmp_path / "o.csv"
    code = main(
        [
            "recommend",
            "--interactions",
            write(tmp_path, "i.csv", interactions),
            "--social",
            write(tmp_path, "s.csv", social),
            "--k",
            "50",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    rows = read_recs(out)
    assert {(r["user_id"], r["item_id"]) for r in rows} == {
        ("u1", "c"),
        ("u2", "a"),
        ("u3", "b"),
        ("u3", "c"),
    }


def test_evaluate_exits_2_on_a_missing_dataset(tmp_path, capsys):
    assert main(["evaluate", "--dataset", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_model_directory_from_an_older_version_is_a_clear_error(tmp_path):
    from recommender.storage import load

    (tmp_path / "metadata.json").write_text('{"format": "tastemaker-recommender", "format_version": 0}')
    with pytest.raises(InputError, match="format version 0"):
        load(tmp_path)


def test_bad_items_file_exits_2(tmp_path, capsys):
    code = main(
        [
            "recommend",
            "--interactions",
            write(tmp_path, "i.csv", "user_id,item_id\nu1,i1\nu2,i2\n"),
            "--social",
            write(tmp_path, "s.csv", GOOD_SOCIAL),
            "--items",
            write(tmp_path, "items.csv", "id,name\ni1,One\n"),
            "--out",
            str(tmp_path / "o.csv"),
        ]
    )
    assert code == 2 and "lacks column(s) item_id" in capsys.readouterr().err


def test_ids_only_in_the_social_file_get_no_rows_and_are_not_items(tmp_path):
    # "ghost" follows and is followed but has no interactions; "a" is also an item id, used as a person.
    interactions = "user_id,item_id\nu1,a\nu1,b\nu2,b\nu2,c\n"
    social = "follower_id,followee_id\nghost,u1\nu2,ghost\nu1,a\n"
    out = tmp_path / "o.csv"
    code = main(
        [
            "recommend",
            "--interactions",
            write(tmp_path, "i.csv", interactions),
            "--social",
            write(tmp_path, "s.csv", social),
            "--k",
            "5",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    rows = read_recs(out)
    assert {r["user_id"] for r in rows} == {"u1", "u2"}
    assert {r["item_id"] for r in rows} <= {"a", "b", "c"}
    assert {(r["user_id"], r["item_id"]) for r in rows} == {("u1", "c"), ("u2", "a")}
