"""A custom BaseException subclass raised at import, whose __str__ and __repr__
also raise, so that describing the error fails too. The grader: 0 for this file."""


class Boom(BaseException):
    def __str__(self):
        raise Boom()

    def __repr__(self):
        raise Boom()


raise Boom()
