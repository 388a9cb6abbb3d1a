"""A tiny DCGAN-style generator: ConvTranspose2d upsampling with BatchNorm2d, ReLU and Tanh."""

import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, nz=4, ngf=4):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


torch.manual_seed(0)
netG = Generator()
netG.apply(weights_init)
print(netG)
noise = torch.randn(3, 4, 1, 1)
fake = netG(noise)
print(tuple(fake.shape), round(fake.mean().item(), 5), round(fake.std().item(), 5))
target = torch.zeros(3, 1, 16, 16)
optimizer = torch.optim.Adam(netG.parameters(), lr=0.01, betas=(0.5, 0.999))
for step in range(5):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(netG(noise), target)
    loss.backward()
    optimizer.step()
    print(step, round(loss.item(), 5))
up = nn.ConvTranspose2d(2, 3, kernel_size=3, stride=2, padding=1, output_padding=1)
print(tuple(up(torch.randn(1, 2, 5, 5)).shape), tuple(up.weight.shape))
