def percent_done(*, processed: int, total: int, succeeded: bool) -> int:
    """Progress of long work (imports, screening runs) for the progress bars: 100 once it succeeded."""
    if succeeded:
        return 100
    if not total:
        return 0
    return min(100, processed * 100 // total)
