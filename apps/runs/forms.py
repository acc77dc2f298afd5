from django import forms

from apps.runs.models import CustomPrice

PER_MILLION = {"class": "input", "inputmode": "decimal", "step": "any", "min": "0", "placeholder": "USD"}


class CustomPriceForm(forms.ModelForm):
    class Meta:
        model = CustomPrice
        fields = [
            "model", "match", "input_per_million", "output_per_million", "cache_read_per_million",
            "cache_write_per_million", "reasoning_per_million",
        ]  # fmt: skip
        labels = {
            "model": "Model",
            "match": "Match",
            "input_per_million": "Input $ / 1M",
            "output_per_million": "Output $ / 1M",
            "cache_read_per_million": "Cache read $ / 1M",
            "cache_write_per_million": "Cache write $ / 1M",
            "reasoning_per_million": "Reasoning $ / 1M",
        }
        help_texts = {"model": "An exact name, or a pattern such as ft:gpt-4o-mini:acme:* (choose Pattern)."}
        widgets = {
            "cache_read_per_million": forms.NumberInput(attrs={**PER_MILLION, "placeholder": "as input"}),
            "cache_write_per_million": forms.NumberInput(attrs={**PER_MILLION, "placeholder": "as input"}),
            "reasoning_per_million": forms.NumberInput(attrs={**PER_MILLION, "placeholder": "as output"}),
            "model": forms.TextInput(
                attrs={"class": "input", "placeholder": "my-fine-tuned-model", "autocomplete": "off"}
            ),
            "match": forms.Select(attrs={"class": "input"}),
            **{name: forms.NumberInput(attrs=PER_MILLION) for name in ("input_per_million", "output_per_million")},
        }
