"""Reading the ONS Postcode Directory: postcode shapes, LAD names matched to the county's districts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.common.reference import load_county
from services.projections.adapters.postcodes import (
    DirectoryError,
    PostcodeShapeError,
    lad_names,
    match_districts,
    name_key,
    normalised,
    read_directory,
)

DATA = Path(__file__).parents[2] / "data" / "onspd"
ONSPD = DATA / "ONSPD_TEST_UK.csv"
NAMES = DATA / "LA_UA names and codes UK as at 04_23.csv"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("al1 1aa", "AL1 1AA"), (" AL11AA ", "AL1 1AA"), ("sw1a  2aa", "SW1A 2AA"), ("WD17   1AA ", "WD17 1AA"),
     ("M1 1AE", "M1 1AE"), ("B33 8TH", "B33 8TH"), ("CR2 6XH", "CR2 6XH"), ("DN55 1PT", "DN55 1PT")],
)  # fmt: skip
def test_a_postcode_is_written_as_the_onspd_writes_it(typed: str, expected: str) -> None:
    assert normalised(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "AL1", "1AL 1AA", "AL1 1A", "AL1 AAA", "ALPHA 1AA", "AL1-1AA", "AL1 1AA X", "AL1\t1AA", "AL1 1AA\n"],
)
def test_what_is_not_shaped_as_a_uk_postcode_is_refused_with_the_shape_it_should_have(typed: str) -> None:
    with pytest.raises(PostcodeShapeError, match="not a UK postcode: give it as, for example, AL1 3JX"):
        normalised(typed)


def test_every_district_of_the_county_is_matched_to_its_lad_code_by_name() -> None:
    matched = match_districts(load_county(), lad_names(NAMES))
    assert matched.unmatched == ()
    assert matched.codes == {
        "E07000095": "broxbourne", "E07000096": "dacorum", "E07000242": "east-hertfordshire",
        "E07000098": "hertsmere", "E07000099": "north-hertfordshire", "E07000240": "st-albans",
        "E07000243": "stevenage", "E07000102": "three-rivers", "E07000103": "watford",
        "E07000241": "welwyn-hatfield",
    }  # fmt: skip


def test_a_district_no_lad_is_called_is_reported_with_the_closest_names(tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text(
        NAMES.read_text().replace("East Hertfordshire", "East Herts").replace("Watford,", "Watferd,")
    )
    matched = match_districts(load_county(), lad_names(names))
    assert [(u.district_id, u.name) for u in matched.unmatched] == [
        ("east-hertfordshire", "East Hertfordshire"), ("watford", "Watford")
    ]  # fmt: skip
    assert "Watferd" in matched.unmatched[1].closest
    assert "E07000242" not in matched.codes and "E07000103" not in matched.codes


def test_names_match_whatever_their_case_spacing_and_ampersands() -> None:
    assert name_key("  St. Albans ") == name_key("st albans")
    assert name_key("Welwyn & Hatfield") == name_key("Welwyn and Hatfield")
    assert name_key("East Herts") != name_key("East Hertfordshire")


def test_the_directory_keeps_the_county_s_postcodes_live_or_terminated_and_nothing_else() -> None:
    matched = match_districts(load_county(), lad_names(NAMES))
    read = read_directory(ONSPD, matched.codes)
    assert read.rows == 14
    assert read.misshapen == 0
    assert "SW1A 2AA" not in read.postcodes and "MK40 1AA" not in read.postcodes
    assert read.postcodes["AL1 9ZZ"].terminated == date(2019, 6, 1)
    assert (read.postcodes["SG14 1AA"].district_id, read.postcodes["SG14 1AA"].lad_code) == (
        "east-hertfordshire", "E07000242",
    )  # fmt: skip
    assert read.live() == 10
    assert read.by_district() == {d.id: 1 for d in load_county().districts}


def test_a_file_without_the_onspd_s_columns_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("postcode,district\nAL1 1AA,E07000240\n")
    with pytest.raises(DirectoryError, match=r"wrong\.csv has no pcds column"):
        read_directory(wrong, {"E07000240": "st-albans"})
    with pytest.raises(DirectoryError, match=r"wrong\.csv has no LAD code \(such as LAD23CD\) column"):
        lad_names(wrong)
