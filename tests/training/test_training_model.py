"""LoRA training on a tiny in-process model: masking, the CE metric, steps, NF4, records, resume."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from narrator.model import prompts
from tests.helpers.tiny_model import wide_tiny_base  # noqa: F401  (fixtures)
from tests.helpers.training import MESSAGES, SUMMARIES, code_example, commit_example, config
from training.batches import IGNORE_INDEX, collate, encode, pad_id_of
from training.config import LoraSettings, TrainConfig, make_optimizer, make_scheduler, quantization_config
from training.cross_entropy import evaluate_examples, summed_ce
from training.examples import Example, write_examples
from training.model import attach_lora, load_base
from training.runs import RunLog
from training.trainer import train, training_step

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # see tests/conftest.py


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write_examples(folder / "codesearchnet" / "train.jsonl", [code_example(i) for i in range(16)])
    write_examples(folder / "commitpackft" / "train.jsonl", [commit_example(i) for i in range(16)])
    write_examples(folder / "codesearchnet" / "val.jsonl", [code_example(i) for i in range(100, 104)])
    write_examples(folder / "commitpackft" / "val.jsonl", [commit_example(i) for i in range(100, 104)])
    return folder


def lora_weights(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}


def base_weights(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}


# --- masking and the metric -----------------------------------------------------------------------


def test_labels_mask_the_prompt_and_keep_the_target_and_eos(wide_tiny_base):
    _, tokenizer = load_base(wide_tiny_base, "none", "cpu")
    example = code_example(1)
    encoded = encode(example, tokenizer, 384)
    prompt = tokenizer.apply_chat_template(example.messages, add_generation_prompt=True, tokenize=False)
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert encoded.labels[:n_prompt] == [IGNORE_INDEX] * n_prompt
    assert encoded.labels[n_prompt:] == encoded.input_ids[n_prompt:]
    assert tokenizer.decode(encoded.labels[n_prompt:-1]) == example.target
    assert encoded.labels[-1] == tokenizer.eos_token_id


def test_a_long_prompt_loses_its_code_never_its_target(wide_tiny_base):
    _, tokenizer = load_base(wide_tiny_base, "none", "cpu")
    code = "\n".join(f"value_{i} = compute({i})" for i in range(400))
    example = Example("codesearchnet", "python", prompts.unit_prompt(code, "f", "function", "a.py", "python"), SUMMARIES[0])
    encoded = encode(example, tokenizer, 300)
    assert len(encoded.input_ids) <= 300
    target = [t for t in encoded.labels if t != IGNORE_INDEX]
    assert tokenizer.decode(target[:-1]) == SUMMARIES[0]
    assert tokenizer.decode(encoded.input_ids).count("<|im_start|>") == 3  # system, user, assistant header intact


def test_loss_counts_target_tokens_only(wide_tiny_base):
    model, tokenizer = load_base(wide_tiny_base, "none", "cpu")
    short_prompt = Example("commitpackft", "python", [{"role": "user", "content": "x"}], MESSAGES[0])
    long_prompt = Example("commitpackft", "python", [{"role": "user", "content": "x " * 150}], MESSAGES[0])
    for example in (short_prompt, long_prompt):
        encoded = encode(example, tokenizer, 384)
        _, count = summed_ce(model, collate([encoded], pad_id_of(tokenizer)))
        assert count == encoded.target_tokens == len(tokenizer(MESSAGES[0], add_special_tokens=False)["input_ids"]) + 1


def test_mean_ce_equals_the_hand_computed_mean_over_target_tokens(wide_tiny_base):
    model, tokenizer = load_base(wide_tiny_base, "none", "cpu")
    examples = [code_example(0), commit_example(1), code_example(3)]
    total, count = 0.0, 0
    with torch.no_grad():
        for example in examples:  # one at a time, no padding, no library helpers
            encoded = encode(example, tokenizer, 384)
            logits = model(input_ids=torch.tensor([encoded.input_ids])).logits[0]
            log_probs = torch.log_softmax(logits.float(), dim=-1)
            for position in range(1, len(encoded.input_ids)):
                if encoded.labels[position] != IGNORE_INDEX:
                    total -= float(log_probs[position - 1, encoded.labels[position]])
                    count += 1
    result = evaluate_examples(model, tokenizer, examples, batch_size=2)  # padded batches
    assert result.tokens == count and result.examples == 3
    assert result.ce == pytest.approx(total / count, rel=1e-5)
    assert result.ppl == pytest.approx(math.exp(result.ce))


# --- training -------------------------------------------------------------------------------------


def _steps(model, tokenizer, quant_cfg: TrainConfig, steps: int) -> list[float]:
    from accelerate import Accelerator

    batch = collate([encode(e, tokenizer, 256) for e in (code_example(0), commit_example(0))], pad_id_of(tokenizer))
    optimizer = make_optimizer(quant_cfg, model.parameters())
    scheduler = make_scheduler(quant_cfg, optimizer, steps)
    accelerator = Accelerator(cpu=True)
    return [float(training_step(model, batch, optimizer, scheduler, accelerator)[0].detach()) for _ in range(steps)]


def test_steps_lower_the_loss_and_change_only_the_lora_weights(wide_tiny_base, tmp_path):
    model, tokenizer = load_base(wide_tiny_base, "none", "cpu")
    model = attach_lora(model, LoraSettings(r=4, alpha=8), seed=0)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    before_base, before_lora = base_weights(model), lora_weights(model)
    losses = _steps(model, tokenizer, config(tmp_path, tmp_path, wide_tiny_base, tmp_path / "x.db", optimizer="adamw",
                                             learning_rate=1e-2), 8)
    assert losses[-1] < losses[0]
    after_base, after_lora = base_weights(model), lora_weights(model)
    assert all(torch.equal(before_base[n], after_base[n]) for n in before_base)
    assert all(not torch.equal(before_lora[n], after_lora[n]) for n in before_lora if "lora_B" in n)


def test_nf4_base_on_cpu_trains_the_adapter_and_keeps_4bit_weights(wide_tiny_base, tmp_path):
    import bitsandbytes as bnb

    q_config = quantization_config("nf4", "cpu")
    assert q_config.load_in_4bit and q_config.bnb_4bit_quant_type == "nf4"
    assert q_config.bnb_4bit_compute_dtype == torch.float32  # bf16 would be slow on CPU
    assert quantization_config("none", "cpu") is None
    model, tokenizer = load_base(wide_tiny_base, "nf4", "cpu")
    assert isinstance(model.model.layers[0].self_attn.q_proj, bnb.nn.Linear4bit)
    model = attach_lora(model, LoraSettings(r=4, alpha=8), seed=0)
    settings = config(tmp_path, tmp_path, wide_tiny_base, tmp_path / "x.db", optimizer="adamw", learning_rate=1e-2)
    first = _steps(model, tokenizer, settings, 1)  # bitsandbytes repacks 4-bit weights for CPU on first use
    packed = {n: p.detach().clone() for n, p in model.named_parameters() if p.dtype == torch.uint8}
    lora_before = lora_weights(model)
    assert packed and not any(p.requires_grad for n, p in model.named_parameters() if n in packed)
    losses = first + _steps(model, tokenizer, settings, 6)
    assert losses[-1] < losses[0]
    assert all(torch.equal(p, dict(model.named_parameters())[n]) for n, p in packed.items())
    assert any(not torch.equal(w, lora_weights(model)[n]) for n, w in lora_before.items())


def test_a_run_is_recorded_lowers_validation_ce_and_saves_the_adapter(wide_tiny_base, data_dir, tmp_path):
    db = tmp_path / "runs.db"
    result = train(config(data_dir, tmp_path / "adapter", wide_tiny_base, db, max_steps=8, eval_every=4, ratio=0.5),
                   progress=False)
    assert result.steps == 8 and (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    assert result.mix["drawn"] == {"codesearchnet": 16, "commitpackft": 16} and result.mix["prompt_version"] is None
    log = RunLog(f"sqlite:///{db}")
    run = log.get_run(result.run_id)
    assert run.status == "done" and run.step == 8 and run.mix == result.mix
    assert run.config["ratio"] == 0.5 and run.config["optimizer"] == "adagrad"
    assert [m.step for m in log.metrics(run.id, "train")] == list(range(1, 9))
    assert all(m.tokens > 0 and m.seconds > 0 for m in log.metrics(run.id, "train"))
    assert sorted({(m.step, m.task) for m in log.metrics(run.id, "eval")}) == [
        (s, t) for s in (0, 4, 8) for t in ("codesearchnet", "commitpackft")]
    for task in ("codesearchnet", "commitpackft"):
        assert run.final[task]["ce"] < run.baseline[task]["ce"]  # step 0 is the base model
        assert run.final[task]["ppl"] == pytest.approx(math.exp(run.final[task]["ce"]))


def test_resume_after_a_crash_continues_the_same_run_to_the_same_weights(wide_tiny_base, data_dir, tmp_path):
    from safetensors.torch import load_file

    train(config(data_dir, tmp_path / "straight", wide_tiny_base, tmp_path / "a.db"), progress=False)

    def crash(step: int, loss: float) -> None:
        if step == 5:
            raise RuntimeError("power cut")

    db = tmp_path / "b.db"
    with pytest.raises(RuntimeError, match="power cut"):
        train(config(data_dir, tmp_path / "crashed", wide_tiny_base, db), on_step=crash, progress=False)
    log = RunLog(f"sqlite:///{db}")
    [failed] = log.list_runs()
    assert failed.status == "failed" and "power cut" in failed.error
    assert sorted(p.name for p in (tmp_path / "crashed").glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]

    resumed = train(config(data_dir, tmp_path / "crashed", wide_tiny_base, db, resume=True), progress=False)
    [run] = log.list_runs()
    assert resumed.run_id == run.id and run.status == "done" and run.error is None and resumed.steps == 6
    assert [m.step for m in log.metrics(run.id, "train")] == [1, 2, 3, 4, 5, 6]
    a = load_file(tmp_path / "straight" / "adapter_model.safetensors")
    b = load_file(tmp_path / "crashed" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_a_run_stopped_by_max_steps_resumes_to_a_longer_one(wide_tiny_base, data_dir, tmp_path):
    db = tmp_path / "c.db"
    first = train(config(data_dir, tmp_path / "out", wide_tiny_base, db, max_steps=3), progress=False)
    assert first.steps == 3 and (tmp_path / "out" / "checkpoint-3").is_dir()
    longer = train(config(data_dir, tmp_path / "out", wide_tiny_base, db, max_steps=5, resume=True), progress=False)
    assert longer.steps == 5 and longer.run_id == first.run_id
    assert [m.step for m in RunLog(f"sqlite:///{db}").metrics(first.run_id, "train")] == [1, 2, 3, 4, 5]
