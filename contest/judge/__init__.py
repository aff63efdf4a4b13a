from contest.judge.views import bp

__all__ = ["bp"]
