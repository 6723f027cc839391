"""anime-latent-explorer's Gradio app, as Hugging Face Spaces starts it (``app_file``): ``python app.py``.

The app lives in ``webui.gradio_app``; ``demo`` is here for tools that import an app file and look for it
(``gradio app.py`` reload mode). ``python app.py --help`` for the options.
"""

from explorer.service import Explorer
from webui.gradio_app import build_demo, main

if __name__ == "__main__":
    main()
else:
    demo = build_demo(Explorer())
