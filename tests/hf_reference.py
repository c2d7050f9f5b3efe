"""Hugging Face transformers' ViT with random weights: the independent implementation
that parity tests compare against."""

import numpy as np


def random_hf_vit(torch, transformers, seed=0, **config):
    """A `ViTForImageClassification` in eval mode whose every weight is random.

    HF initialises LayerNorms to (1, 0), biases and tokens to zero; those would
    hide mistakes in how they are mapped, so they are drawn at random too.
    """
    torch.manual_seed(seed)
    model = transformers.ViTForImageClassification(
        transformers.ViTConfig(initializer_range=0.2, **config)
    ).eval()
    with torch.no_grad():
        for name, tensor in model.named_parameters():
            if "layernorm" in name or name.endswith("bias") or "token" in name:
                tensor.normal_(0.0 if "bias" in name or "token" in name else 1.0, 0.1)
    return model


def hf_logits(torch, model, images_nhwc):
    with torch.no_grad():
        pixels = torch.from_numpy(np.ascontiguousarray(images_nhwc.transpose(0, 3, 1, 2)))
        return model(pixel_values=pixels).logits.numpy()
