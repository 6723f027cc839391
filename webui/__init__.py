"""The front ends over the explorer's core (``explorer``, which holds no UI code).

``webui.gradio_app``: the Gradio app (``app.py`` at the repository root is its Spaces entry);
``webui/streamlit_app.py``: the Streamlit app (``streamlit run webui/streamlit_app.py``);
``webui.wording``: the words both show for the core's data (model summaries, the results table).
"""
