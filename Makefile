# Fan Remix Studio. `make run` and `make test` set everything up on a fresh Debian 12 machine (as root).
SHELL := /bin/bash
.DEFAULT_GOAL := run

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# System packages: PortAudio + JACK (audio out, a paced dummy device for tests), Qt's offscreen/xcb runtime,
# a font, libsndfile, the peer tools the tests and benchmarks compare against, and PostgreSQL (the rights service's
# deployment target: tests/service/test_postgres.py runs the service tests on a throw-away cluster).
APT_PACKAGES := libportaudio2 jackd2 libsndfile1 \
	libegl1 libgl1 libglx0 libglvnd0 libfontconfig1 libfreetype6 libxkbcommon0 libdbus-1-3 libglib2.0-0 \
	libx11-6 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
	libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 fonts-dejavu-core \
	ffmpeg sox rubberband-cli flac desktop-file-utils appstream curl postgresql-15
APT_STAMP := $(VENV)/.apt-ok

.PHONY: run test lint contracts pytest system venv clean demo bench

system: $(APT_STAMP)
$(APT_STAMP):
	@scripts/ensure-system-packages.sh $(APT_PACKAGES)
	@mkdir -p $(VENV) && touch $@

$(STAMP): pyproject.toml $(APT_STAMP)
	@scripts/ensure-venv.sh $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/fanremix

lint: $(STAMP)
	$(VENV)/bin/ruff check app tests $(wildcard bench)
	$(VENV)/bin/ruff format --check app tests $(wildcard bench)
	$(VENV)/bin/bandit -q -r app -ll

contracts: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache

pytest: $(STAMP)
	scripts/with-jack.sh $(PY) -m pytest $(PYTEST_ARGS)

test: lint contracts pytest

demo: $(STAMP)
	$(VENV)/bin/fanremix demo -o demo.fanpack

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache tests/artifacts

# -- packaging: a one-folder PyInstaller bundle, desktop integration, installers (see packaging/README.md) ----------
PACKAGE_STAMP := $(VENV)/.package-tools
BUNDLE := dist/fanremix/fanremix
APP_ICON := build/icons/hicolor/512x512/apps/org.fanremix.FanRemixStudio.png
BUNDLE_INPUTS := pyproject.toml $(shell find app resources packaging -type f -not -path '*/__pycache__/*' 2>/dev/null)
PREFIX ?= $(HOME)/.local

$(PACKAGE_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,package]'
	@touch $@

$(BUNDLE): $(PACKAGE_STAMP) $(BUNDLE_INPUTS)
	@rm -rf dist/fanremix
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/fanremix.spec
	@touch $@
	@echo "bundle: $$(du -sh dist/fanremix | cut -f1) in dist/fanremix"

$(APP_ICON): resources/icons/org.fanremix.FanRemixStudio.svg packaging/render_icons.py $(PACKAGE_STAMP)
	$(PY) packaging/render_icons.py build/icons >/dev/null

package: $(BUNDLE) $(APP_ICON)

package-test: package
	scripts/package-test.sh

install: package
	packaging/install.sh --prefix "$(PREFIX)" $(if $(DESTDIR),--destdir "$(DESTDIR)")

uninstall:
	packaging/install.sh --prefix "$(PREFIX)" $(if $(DESTDIR),--destdir "$(DESTDIR)") --uninstall

appimage: package
	packaging/appimage/build-appimage.sh

installer: package
	@scripts/ensure-system-packages.sh makeself zstd
	packaging/makeself/build-installer.sh

.PHONY: package package-test install uninstall appimage installer

# -- long fuzzing run (not part of make test): hypothesis with many examples, then atheris ------------------------
FUZZ_EXAMPLES ?= 5000
FUZZ_SECONDS ?= 1200
fuzz: $(STAMP)
	FANREMIX_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/reliability -k fuzz -p no:cacheprovider -q
	mkdir -p tests/artifacts/fuzz/corpus tests/artifacts/fuzz/crashes
	$(PY) -m tests.reliability.fuzz_atheris -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix=tests/artifacts/fuzz/crashes/ tests/artifacts/fuzz/corpus

.PHONY: fuzz
