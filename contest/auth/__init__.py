from contest.auth.views import bp

__all__ = ["bp"]
