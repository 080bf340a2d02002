from taxpayers.progress import percent_done


def test_percent_done():
    assert percent_done(processed=0, total=0, succeeded=False) == 0
    assert percent_done(processed=250, total=1000, succeeded=False) == 25
    assert percent_done(processed=1200, total=1000, succeeded=False) == 100
    assert percent_done(processed=10, total=1000, succeeded=True) == 100
