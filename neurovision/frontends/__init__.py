"""Reusable front-end architectures: CordsNet, DCN, baselines, hGRU, convLSTM, recurrent ResNets."""
