#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_regress: the pcap regression suite (tests/regress/) as part of `make test`:
# every case's capture replayed through fh gives its expected digest (events
# per family, every book's checksum, sequencing counters).
# fh-test-timeout: 180
cd "$(dirname "$0")/.." || exit 1
exec bash tests/regress/run.sh
