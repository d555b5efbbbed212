// lab.models builders of the adversarial families (gan, dcgan, wgan, wgan-gp, lsgan, cgan).
export const adversarialModels = {};
