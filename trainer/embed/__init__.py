"""The embedding pipeline: encode → 2-D maps → clusters → attribute directions → atlas."""
