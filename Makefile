# studylib: the two commands of the README are `make demo` and `make test`.
# Both create .venv on first use and are quick when it is already set up.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.studylib-ready
# Kernels are looked up in the venv first, so the notebooks' "python3" kernel is the venv's
# Python even when a user-level "python3" kernelspec points elsewhere.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: setup demo test lint teach lab bench refresh-notebooks clean

setup: $(READY)

$(READY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# rfc3987-syntax builds parsers at import and costs every notebook 1.4 s; jsonschema works
	# without it (docs/research/platform.md, papermill pitfalls).
	-$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 \
		--display-name "Python 3 (studylib)" > /dev/null
	touch $(READY)

demo: $(READY)
	$(BIN)/studylib batch --data data --out outputs --warm

test: $(READY)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider --ignore=tests/notebooks --ignore=tests/fixtures --doctest-modules studylib tests notebooks

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each page of the tour has its own kernel (about 155 MB): a class that reloads it must not
# exhaust memory. Kernels idle for TEACH_IDLE_S seconds are culled, open page or not, and at
# most TEACH_MAX_KERNELS run at once (studylib/teach.py); the README says so.
TEACH_IDLE_S ?= 600
TEACH_MAX_KERNELS ?= 20

teach: $(READY)
	$(BIN)/voila notebooks/00_protocol_tour.ipynb --no-browser --Voila.ip=127.0.0.1 \
		--port=8866 --strip_sources=True \
		--VoilaConfiguration.multi_kernel_manager_class=studylib.teach.BoundedKernelManager \
		--BoundedKernelManager.max_kernels=$(TEACH_MAX_KERNELS) \
		--MappingKernelManager.cull_idle_timeout=$(TEACH_IDLE_S) \
		--MappingKernelManager.cull_connected=True --MappingKernelManager.cull_interval=60

# Jupyter refuses to start as root unless told; containers and CI machines often run as root.
ROOT_OK := $(if $(filter 0,$(shell id -u)),--allow-root)

# Rooted at the repository, so that data/ and outputs/ are in reach; opens on notebooks/.
lab: $(READY)
	$(BIN)/jupyter lab --ip=127.0.0.1 --no-browser $(ROOT_OK) \
		--ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks

bench: $(READY)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# The bundled cohort's SDTM and ADaM datasets (XPT v5 and Dataset-JSON 1.1) for a
# statistician or a validator: README, "Handing the datasets on".
.PHONY: export
export: $(READY)
	$(BIN)/studylib export --data data --out outputs/cdisc

refresh-notebooks: $(READY)
	$(BIN)/python tools/refresh_notebooks.py

clean:
	rm -rf outputs .pytest_cache
