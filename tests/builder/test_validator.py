"""Every document a build writes passes the W3C Feed Validation Service's own code (run
offline from ../shared/tools, MIT licence) with no error and no warning."""

from __future__ import annotations

from datetime import datetime

import pytest

from feeder import publish
from feeder.config import Config
from feeder.ingest import Ingestor
from feeder.store import Store
from tests.support import JAKARTA, VALIDATOR, Drop, validate

pytestmark = pytest.mark.skipif(not VALIDATOR.is_file(),
                                reason=f"the W3C feed validator is not at {VALIDATOR}")


def test_every_feed_archive_and_opml_is_valid_with_no_warning(
        drop: Drop, store: Store, config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    drop("kendal/rapat.txt", "Rapat Pleno\n\nKendal – Rapat digelar Senin (1/12/2025). (bud)")
    # Titles that look like markup or hold references, text with a no-break space, tags.
    drop("aneh.txt", 'Suara <50% & "kutip" </b> &#x41; <script>\n\nSemarang, '
         "kota-semarang.kpu.go.id – Isi\u00a0tetap Senin (1/12/2025). (ana/ed. Foto: x)")
    drop("catatan.md", "---\ntitle: Jadwal <Pemilu> & Pilkada\ndate: 2025-11-03T08:00:00+07:00"
         "\ntags: [Pemilu, Jadwal]\nauthor: Rina\n---\nIsi <b>tebal</b> [tautan](https://kpu.go.id/).")
    Ingestor(store, config).scan()
    publish.build(store, config, now=datetime(2026, 1, 10, tzinfo=JAKARTA))
    out = config.output_dir
    documents = sorted([*out.rglob("*.xml"), *out.rglob("*.opml")])
    kinds = {p.relative_to(out).parts[0] for p in documents}
    assert {"rss.xml", "atom.xml", "feeds.opml", "archive", "sources", "tags"} <= kinds
    findings = {str(p.relative_to(out)): found for p in documents
                if (found := validate(p, config.url(p.relative_to(out).as_posix())))}
    assert findings == {}
