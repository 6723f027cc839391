"""The Gradio app: ``build_demo(Explorer(...))`` makes the page, ``launch`` serves it with the face route.

Each file owns one part: ``blocks`` the layout and its events, ``handlers`` what the events call, ``face``
the slider face and its HTTP route, ``latent_map`` the map widget and its handlers, ``share`` links and
latent files, ``api`` the endpoints without a widget and the error policy, ``outputs`` the files handed out,
``serve`` serving and the command line.
"""

from webui.gradio_app.blocks import build_demo
from webui.gradio_app.serve import launch, main

__all__ = ["build_demo", "launch", "main"]
