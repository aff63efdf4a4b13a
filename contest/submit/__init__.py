from contest.submit.views import bp

__all__ = ["bp"]
